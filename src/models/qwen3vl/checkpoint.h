// Qwen3-VL's part of models/checkpoint.h.
#pragma once

#include "models/checkpoint.h"

namespace kantu::models::qwen3vl {

std::vector<KnownConfig> known_configs();  // qwen3-vl-2b, -4b, -8b, and "tiny"
std::vector<CheckpointTensor> checkpoint_tensors(const Json& config);
Json preprocessor_config(const Json& config);
Json generation_config(const Json& config);

}  // namespace kantu::models::qwen3vl
