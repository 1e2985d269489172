// Where a Qwen-VL checkpoint keeps its two towers: transformers >= 4.52 saves
// "model.language_model." and "model.visual."; the official Qwen2/2.5-VL files and older
// exports use "model." and "visual.".
#pragma once

#include <string>

#include "formats/weight_store.h"

namespace kantu::models {

struct QwenPrefixes {
  std::string text, vision;
};

inline QwenPrefixes detect_qwen_prefixes(const WeightStore& store) {
  if (store.has("model.embed_tokens.weight") &&
      !store.has("model.language_model.embed_tokens.weight")) {
    return {"model.", "visual."};
  }
  return {"model.language_model.", "model.visual."};
}

}  // namespace kantu::models
