#include "formats/model_family.h"

#include <string_view>

#include "core/error.h"
#include "formats/json_fields.h"

namespace kantu {

namespace {

struct FamilyEntry {
  ModelFamily family;
  std::string_view model_type;
  std::string_view architecture;  // the ...ForConditionalGeneration class (GGUF pairs, info)
};

// The registry: one row per family.
constexpr FamilyEntry kFamilies[] = {
    {ModelFamily::kQwen3VL, "qwen3_vl", "Qwen3VLForConditionalGeneration"},
    {ModelFamily::kQwen25VL, "qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration"},
    {ModelFamily::kQwen2VL, "qwen2_vl", "Qwen2VLForConditionalGeneration"},
    {ModelFamily::kLlava, "llava", "LlavaForConditionalGeneration"},
    {ModelFamily::kLlavaNext, "llava_next", "LlavaNextForConditionalGeneration"},
};

}  // namespace

const char* model_family_name(ModelFamily family) {
  for (const auto& entry : kFamilies) {
    if (entry.family == family) return entry.model_type.data();
  }
  return "unknown";
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& entry : kFamilies) out.emplace_back(entry.model_type);
  return out;
}

ModelFamily model_family_from_config(const Json& config, const std::string& file) {
  JsonFields fields(config, file);
  const std::string model_type = fields.string("model_type");
  for (const auto& entry : kFamilies) {
    if (entry.model_type == model_type) return entry.family;
  }
  std::string known;
  for (const auto& t : supported_model_types()) known += (known.empty() ? "" : ", ") + t;
  fail(ErrorKind::kUnsupported, file, ": unsupported model type ", model_type,
       " (kantu runs: ", known, ")");
}

}  // namespace kantu
