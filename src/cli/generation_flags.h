// The options of every command that answers with a local model in this process (`run`,
// `chat`): the model (-m, --mmproj, --no-pull), weights and activations, threads, context,
// and the sampling knobs; and how they become a loaded engine and the loop's options.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/weight_flags.h"
#include "runtime/generate.h"

namespace kantu::cli {

struct GenerationFlags {
  std::string model;
  std::string mmproj;
  int64_t max_new_tokens = 0;
  float temperature = 0, top_p = 0, min_p = 0, repetition_penalty = 0, presence_penalty = 0;
  int top_k = 0;
  uint64_t seed = 0;
  std::vector<std::string> stops;
  WeightFlags weights;
  int threads = 0;
  int64_t max_context = 0;
  int64_t kv_cache_mb = 1024;  // the prefix KV cache (0 = off)
  // The options themselves: a sampling knob overrides generation_config.json only when given.
  CLI::Option *n = nullptr, *temperature_opt = nullptr, *top_k_opt = nullptr, *top_p_opt = nullptr,
              *min_p_opt = nullptr, *rep_opt = nullptr, *presence_opt = nullptr;
};

// Adds the options above to cmd (-m is required).
void add_generation_flags(CLI::App* cmd, GenerationFlags* flags);

std::unique_ptr<runtime::Engine> load_runtime_engine(const GenerationFlags& flags);

// The model's defaults (generation_config.json) with the given options over them;
// validated (kInvalidArgument for out-of-range sampling values).
runtime::LoopOptions loop_options(const GenerationFlags& flags,
                                  const runtime::GenerationDefaults& defaults);

}  // namespace kantu::cli
