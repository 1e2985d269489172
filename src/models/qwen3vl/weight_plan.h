// Which Qwen3-VL matrices --weights / --vision-weights convert.
#pragma once

#include <vector>

#include "models/model.h"
#include "models/qwen3vl/weights.h"
#include "models/weight_cache.h"

namespace kantu::models::qwen3vl {

// Every Linear weight of the vision tower (patch embedding, attention, MLP, mergers) to
// options.vision, and of the language model (attention, MLP, lm_head) to options.text,
// skipping matrices already in a block type or whose columns are not whole blocks (they
// stay in their stored type). embed_tokens is never converted: it is only read one row per
// token. A tied lm_head gets its own converted copy, since it is the largest matrix every
// decode step reads. Types left as kBF16 convert nothing.
std::vector<MatrixConversion> plan_conversions(Weights& weights, const WeightOptions& options);

}  // namespace kantu::models::qwen3vl
