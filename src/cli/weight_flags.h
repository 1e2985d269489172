// --weights, --vision-weights, --cache-dir and --activations, shared by every command that
// loads a model.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "models/model.h"

namespace kantu::cli {

struct WeightFlags {
  std::string weights = "bf16";
  std::string vision;  // empty: same as weights
  std::string cache_dir;
  std::string activations;  // empty: each matrix's default (models::default_activations)
};

void add_weight_flags(CLI::App* cmd, WeightFlags* flags);
// Throws Error(kInvalidArgument) for a type other than bf16, q8, q4, or activations other
// than f32, bf16, int8.
models::WeightOptions weight_options(const WeightFlags& flags);

}  // namespace kantu::cli
