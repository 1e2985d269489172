// The LLaVA families: LLaVA-1.5 (LlavaForConditionalGeneration, model_type "llava") and
// LLaVA-NeXT (LlavaNextForConditionalGeneration, "llava_next"): CLIP vision, a 2-layer
// projector, (NeXT) anyres tiling, and a Llama or Mistral text model configured on the
// shared decoder. The profile's image processor is CLIPImageProcessor or
// LlavaNextImageProcessor (image/clip_preprocess.h), its chat format the llava-hf template.
#pragma once

#include "models/family.h"

namespace kantu::models::llava {

ModelProfile profile(const ModelFolder& model);
FamilyModel build(const ModelFolder& model, const WeightStore& store);

}  // namespace kantu::models::llava
