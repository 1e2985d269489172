// Qwen3-VL weights bound by name from a WeightStore onto the shared blocks: the vision
// tower (blocks/qwen_vision.h) and the decoder (blocks/decoder.h).
#pragma once

#include <string>
#include <vector>

#include "formats/weight_store.h"
#include "models/blocks/decoder.h"
#include "models/blocks/qwen_vision.h"
#include "models/qwen3vl/config.h"

namespace kantu::models::qwen3vl {

struct Weights {
  blocks::QwenVisionWeights vision;  // empty for a text-only model
  blocks::DecoderWeights text;
};

// The decoder and vision tower configurations of a Qwen3-VL config.
blocks::DecoderConfig decoder_config(const Config& config);
blocks::QwenVisionConfig vision_config(const Config& config);

// Binds every tensor; one Error(kNotFound) lists all missing names, and a shape or dtype
// mismatch is Error(kCorrupt) naming the tensor with expected and actual shapes.
Weights bind_weights(const WeightStore& store, const Config& config);

// The names bind_weights needs (tests and `kantu info` use them).
std::vector<std::string> required_tensor_names(const Config& config);

}  // namespace kantu::models::qwen3vl
