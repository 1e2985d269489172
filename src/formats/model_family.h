// Which model family a folder holds, decided from config.json's model_type. Later
// families (Qwen2.5-VL, LLaVA-style) add an enum value and a line in the registry.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace kantu {

enum class ModelFamily {
  kQwen3VL,    // model_type "qwen3_vl" (Qwen3VLForConditionalGeneration)
  kLlava,      // "llava" (LlavaForConditionalGeneration: LLaVA-1.5)
  kLlavaNext,  // "llava_next" (LlavaNextForConditionalGeneration: LLaVA-NeXT / 1.6)
};

// The config.json spelling ("qwen3_vl").
const char* model_family_name(ModelFamily family);
// Every model_type kantu can run, for messages and `kantu info`.
std::vector<std::string> supported_model_types();

// Reads config.json's model_type. `file` names the file in errors. A missing or
// non-string model_type is Error(kNotFound / kCorrupt); a family kantu does not run is
// Error(kUnsupported) "unsupported model type X".
ModelFamily model_family_from_config(const Json& config, const std::string& file);

}  // namespace kantu
