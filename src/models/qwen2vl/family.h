// The Qwen2-VL and Qwen2.5-VL families (Qwen2VLForConditionalGeneration,
// Qwen2_5_VLForConditionalGeneration): one folder, as in transformers, where Qwen2.5-VL
// derives from Qwen2-VL; the variant comes from the model's family.
#pragma once

#include "models/family.h"

namespace kantu::models::qwen2vl {

ModelProfile profile(const ModelFolder& model);
FamilyModel build(const ModelFolder& model, const WeightStore& store);

}  // namespace kantu::models::qwen2vl
