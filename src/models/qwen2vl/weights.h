// Qwen2-VL / Qwen2.5-VL weights bound by name onto the shared blocks: the vision tower
// (patch embedding without bias, blocks with LayerNorm + fc1/fc2 or RMSNorm +
// gate/up/down, the merger's ln_q + mlp.0/mlp.2) and the Qwen2 decoder.
#pragma once

#include <string>
#include <vector>

#include "formats/weight_store.h"
#include "models/blocks/decoder.h"
#include "models/blocks/qwen_vision.h"
#include "models/qwen2vl/config.h"

namespace kantu::models::qwen2vl {

struct Weights {
  blocks::QwenVisionWeights vision;  // empty for a text-only model
  blocks::DecoderWeights text;
};

// One Error(kNotFound) lists every missing tensor; a wrong shape or dtype is
// Error(kCorrupt) naming the tensor.
Weights bind_weights(const WeightStore& store, const Config& config);

// The names bind_weights needs, under the official prefixes ("model.", "visual.").
std::vector<std::string> required_tensor_names(const Config& config);

}  // namespace kantu::models::qwen2vl
