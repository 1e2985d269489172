// The Qwen3-VL family (Qwen3VLForConditionalGeneration): its profile and its model parts
// (models/family.h) from a config.json (or a GGUF pair's equivalent).
#pragma once

#include "models/family.h"

namespace kantu::models::qwen3vl {

ModelProfile profile(const ModelFolder& model);
FamilyModel build(const ModelFolder& model, const WeightStore& store);

}  // namespace kantu::models::qwen3vl
