// ModelCosts (model.h) of a bound Qwen3-VL model.
#pragma once

#include "models/model.h"
#include "models/qwen3vl/config.h"
#include "models/qwen3vl/weights.h"

namespace kantu::models {

ModelCosts costs_of(const qwen3vl::Config& config, const qwen3vl::Weights& weights);

}  // namespace kantu::models
