// What a checkpoint of a family holds, for synthesizing one (`kantu synth`): the released
// models' config.json files, the tensor list (Hugging Face names, shapes, how to fill
// them) of any config, and the preprocessor_config.json / generation_config.json that go
// beside it. Each family provides its part (models/<family>/checkpoint.cpp); these
// functions pick the family from the config's model_type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu::models {

// One tensor of a checkpoint: norms are filled with 1.0 (weights) / 0.0 (biases),
// everything else with random values.
struct CheckpointTensor {
  std::string name;
  std::vector<int64_t> shape;
  enum class Fill { kNormal, kOnes, kZeros } fill = Fill::kNormal;
  int64_t numel() const;
};

// A released model (or a test-size one) by name: "qwen3-vl-2b", "qwen2.5-vl-3b", ...
struct KnownConfig {
  std::string name;
  Json config;
};

// Every family's known configs, in registry order.
std::vector<KnownConfig> known_configs();
// The config.json of a known name; Error(kInvalidArgument) listing the known ones.
Json known_config(const std::string& name);

// The full tensor list of a config.json, sorted by name (validated: missing or
// non-positive sizes are Error(kInvalidArgument) naming the field).
std::vector<CheckpointTensor> checkpoint_tensors(const Json& config);
// The released preprocessor_config.json and generation_config.json of the family.
Json checkpoint_preprocessor_config(const Json& config);
Json checkpoint_generation_config(const Json& config);

// A config.json field as a positive integer; Error(kInvalidArgument) naming it.
int64_t config_positive(const Json& section, const char* section_name, const char* key);

}  // namespace kantu::models
