// Which model family a folder holds, decided from config.json's model_type, or from the
// model class its architectures list names when there is no model_type (GGUF pairs: from their metadata, gguf_config.h). A new family adds an enum value and a row in the table here
// (identification, and the readers of its config's sizes: family_sizes.h) and one in
// models/families.cpp (implementation).
#pragma once

#include <string>
#include <vector>

#include "core/json.h"

namespace kantu {

enum class ModelFamily {
  kQwen3VL,    // model_type "qwen3_vl" (Qwen3VLForConditionalGeneration)
  kQwen25VL,   // "qwen2_5_vl" (Qwen2_5_VLForConditionalGeneration)
  kQwen2VL,    // "qwen2_vl" (Qwen2VLForConditionalGeneration)
  kLlava,      // "llava" (LlavaForConditionalGeneration: LLaVA-1.5)
  kLlavaNext,  // "llava_next" (LlavaNextForConditionalGeneration: LLaVA-NeXT / 1.6)
};

// The config.json spelling ("qwen3_vl").
const char* model_family_name(ModelFamily family);
// The model class ("Qwen3VLForConditionalGeneration"), as config.json's architectures lists it.
const char* model_family_architecture(ModelFamily family);
// Every model_type kantu can run, for messages and `kantu info`.
std::vector<std::string> supported_model_types();

struct FamilySizeReaders;  // formats/family_sizes.h
// The family's readers of the sizes in its config.json (model_summary.h, `kantu info`).
const FamilySizeReaders& family_size_readers(ModelFamily family);

// The family of a config.json: its model_type (which picks the configuration class in
// transformers), or, when model_type is absent, the first model class of architectures
// that kantu knows. `file` names the file in errors. Unidentified: Error(kNotFound)
// "model_type is missing ..." without a model_type, else Error(kUnsupported) "unsupported
// model type X ..."; both list what kantu runs. A field of the wrong type is Error(kCorrupt).
ModelFamily model_family_from_config(const Json& config, const std::string& file);

}  // namespace kantu
