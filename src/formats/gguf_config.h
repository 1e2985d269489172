// What llama.cpp's GGUF pair stands for in Hugging Face terms: the family (text
// architecture "qwen3vl" or "qwen2vl" with projector "qwen3vl_merger", "qwen2vl_merger" or
// "qwen2.5vl_merger"; "llama" with LLaVA's "mlp": gguf_llava_config.h), the config.json,
// preprocessor_config.json and generation_config.json its metadata encodes. Used by
// ModelFolder::open_gguf.
#pragma once

#include <cstdint>
#include <vector>

#include "core/json.h"
#include "formats/gguf.h"
#include "formats/model_family.h"

namespace kantu {

struct GgufPairInfo {
  ModelFamily family = ModelFamily::kQwen3VL;
  Json config;        // config.json in the family's own layout
  Json preprocessor;  // preprocessor_config.json keys (null without an mmproj)
  Json generation;    // generation_config.json
  std::vector<int64_t> deepstack;  // Qwen3-VL's deepstack_visual_indexes
};

// Checks that `text` is a text model file and `mmproj` (may be null) a vision projector
// of the same family: Error(kInvalidArgument) for swapped files, kUnsupported for
// another architecture or projector, kCorrupt for missing or inconsistent keys.
GgufPairInfo describe_gguf_pair(const GgufFile& text, const GgufFile* mmproj);

}  // namespace kantu
