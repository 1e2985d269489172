// --weights, --vision-weights and --cache-dir, shared by every command that loads a model.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "models/model.h"

namespace kantu::cli {

struct WeightFlags {
  std::string weights = "bf16";
  std::string vision;  // empty: same as weights
  std::string cache_dir;
};

void add_weight_flags(CLI::App* cmd, WeightFlags* flags);
// Throws Error(kInvalidArgument) for a type other than bf16, q8, q4.
models::WeightOptions weight_options(const WeightFlags& flags);

}  // namespace kantu::cli
