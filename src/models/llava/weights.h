// Binding a LLaVA checkpoint's tensors. Two layouts are accepted, as transformers does:
//   as the llava-hf checkpoints are published: language_model.model.*, language_model.lm_head,
//     vision_tower.vision_model.*, multi_modal_projector.linear_{1,2}, image_newline;
//   as transformers >= 4.52 saves them: model.language_model.*, lm_head,
//     model.vision_tower.vision_model.*, model.multi_modal_projector.*, model.image_newline.
#pragma once

#include "formats/weight_store.h"
#include "models/blocks/decoder.h"
#include "formats/llava_config.h"
#include "models/llava/vision.h"

namespace kantu::models::llava {

struct Weights {
  blocks::DecoderWeights text;
  VisionWeights vision;  // empty when the config has no vision
};

// The decoder the text model is a configuration of (Llama / Mistral).
blocks::DecoderConfig decoder_config(const Config& c);

// Every tensor the config needs, with the config's shapes; a missing or misshapen tensor is
// an error naming it.
Weights bind_weights(const WeightStore& store, const Config& c);

}  // namespace kantu::models::llava
