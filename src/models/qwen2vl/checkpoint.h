// Qwen2-VL's and Qwen2.5-VL's part of models/checkpoint.h: the official flat config.json
// layout ("model." / "visual." tensor names, as the released checkpoints).
#pragma once

#include "models/checkpoint.h"

namespace kantu::models::qwen2vl {

// qwen2.5-vl-3b, qwen2.5-vl-7b, qwen2-vl-2b, and the test-size qwen2.5-vl-tiny, qwen2-vl-tiny.
std::vector<KnownConfig> known_configs();
std::vector<CheckpointTensor> checkpoint_tensors(const Json& config);
Json preprocessor_config(const Json& config);
Json generation_config(const Json& config);

}  // namespace kantu::models::qwen2vl
