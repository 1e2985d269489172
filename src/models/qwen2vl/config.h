// Qwen2-VL and Qwen2.5-VL configuration, parsed from a Hugging Face config.json into the
// shared blocks' typed configs. Both layouts transformers reads are accepted: the official
// flat one (text keys at the top level, vision_config nested) and the nested text_config a
// re-save writes; absent keys take the transformers class defaults, and
// rope_scaling {"type": "mrope"} (the official files) means the default rope, as there.
// Only what the reference itself cannot run, or kantu does not implement, is refused,
// with the reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/blocks/decoder.h"
#include "models/blocks/qwen_vision.h"

namespace kantu {
class ModelFolder;
}  // namespace kantu

namespace kantu::models::qwen2vl {

enum class Variant {
  kQwen2VL,   // model_type "qwen2_vl": LayerNorm + QuickGELU vision, full attention
  kQwen25VL,  // model_type "qwen2_5_vl": RMSNorm + SwiGLU vision, window attention
};

struct Config {
  Variant variant = Variant::kQwen25VL;
  blocks::DecoderConfig text;       // Qwen2: q/k/v biases, chunked M-RoPE
  blocks::QwenVisionConfig vision;  // valid when has_vision
  bool has_vision = true;           // false: a GGUF text model without its mmproj
  int64_t image_token_id = 151655;
  int64_t video_token_id = 151656;
  int64_t vision_start_token_id = 151652;
  int64_t vision_end_token_id = 151653;
  double tokens_per_second = 4;     // Qwen2.5-VL video positions (class default 4, files 2)
};

// Parses a config.json document of `variant`; `file` names it in errors: kCorrupt for
// malformed or inconsistent fields, kUnsupported for what kantu does not run.
Config parse_config(const Json& doc, const std::string& file, Variant variant);

// The config of an opened model (a folder or a GGUF pair).
Config config_of(const ModelFolder& model);

}  // namespace kantu::models::qwen2vl
