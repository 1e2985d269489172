// LLaVA-1.5's and LLaVA-NeXT's part of models/checkpoint.h, in llava-hf's layout (the
// published llava-hf checkpoints: "language_model.model.", "vision_tower.vision_model.",
// "multi_modal_projector.", "image_newline").
#pragma once

#include "models/checkpoint.h"

namespace kantu::models::llava {

// llava-1.5-7b, llava-next-vicuna-7b, llava-next-mistral-7b (llava-hf/llava-1.5-7b-hf,
// llava-v1.6-vicuna-7b-hf, llava-v1.6-mistral-7b-hf), and the test-size llava-1.5-tiny,
// llava-next-tiny.
std::vector<KnownConfig> known_configs();
std::vector<CheckpointTensor> checkpoint_tensors(const Json& config);
Json preprocessor_config(const Json& config);
Json generation_config(const Json& config);

}  // namespace kantu::models::llava
