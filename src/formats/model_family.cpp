#include "formats/model_family.h"

#include <string_view>

#include "core/error.h"
#include "formats/family_sizes.h"
#include "formats/json_fields.h"

namespace kantu {

namespace {

struct FamilyEntry {
  ModelFamily family;
  std::string_view model_type;    // config.json model_type
  std::string_view architecture;  // config.json architectures[]: the model class
  const FamilySizeReaders* sizes;  // family_sizes.h
};

// The registry: one row per family.
constexpr FamilyEntry kFamilies[] = {
    {ModelFamily::kQwen3VL, "qwen3_vl", "Qwen3VLForConditionalGeneration", &kQwen3VLSizes},
    {ModelFamily::kQwen25VL, "qwen2_5_vl", "Qwen2_5_VLForConditionalGeneration", &kQwen25VLSizes},
    {ModelFamily::kQwen2VL, "qwen2_vl", "Qwen2VLForConditionalGeneration", &kQwen2VLSizes},
    {ModelFamily::kLlava, "llava", "LlavaForConditionalGeneration", &kLlavaSizes},
    {ModelFamily::kLlavaNext, "llava_next", "LlavaNextForConditionalGeneration", &kLlavaSizes},
};

// "qwen3_vl (Qwen3VLForConditionalGeneration), ...": what an error offers instead.
std::string supported_list() {
  std::string out;
  for (const auto& entry : kFamilies) {
    out += cat(out.empty() ? "" : ", ", entry.model_type, " (", entry.architecture, ")");
  }
  return out;
}

}  // namespace

const char* model_family_name(ModelFamily family) {
  for (const auto& entry : kFamilies) {
    if (entry.family == family) return entry.model_type.data();
  }
  return "unknown";
}

const char* model_family_architecture(ModelFamily family) {
  for (const auto& entry : kFamilies) {
    if (entry.family == family) return entry.architecture.data();
  }
  return "unknown";
}

const FamilySizeReaders& family_size_readers(ModelFamily family) {
  for (const auto& entry : kFamilies) {
    if (entry.family == family) return *entry.sizes;
  }
  fail(ErrorKind::kInternal, "model family ", static_cast<int>(family), " is not in the registry");
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const auto& entry : kFamilies) out.emplace_back(entry.model_type);
  return out;
}

ModelFamily model_family_from_config(const Json& config, const std::string& file) {
  JsonFields fields(config, file);
  std::vector<std::string> architectures;
  if (fields.has("architectures")) {
    const Json& list = config.at("architectures");
    if (!list.is_array()) fields.wrong("architectures", "a list of strings");
    for (const Json& a : list) {
      if (!a.is_string()) fields.wrong("architectures", "a list of strings");
      architectures.push_back(a.get<std::string>());
    }
  }
  // model_type decides, as it picks the configuration class in transformers; only a
  // config without one is identified by the model class its architectures name.
  const std::string model_type = fields.string("model_type", "");
  for (const auto& entry : kFamilies) {
    if (model_type.empty()) {
      for (const std::string& arch : architectures)
        if (entry.architecture == arch) return entry.family;
    } else if (entry.model_type == model_type) {
      return entry.family;
    }
  }
  std::string named;
  for (const std::string& arch : architectures) named += (named.empty() ? "" : ", ") + arch;
  const std::string classes = named.empty() ? "no architectures" : "architectures " + named;
  if (model_type.empty()) {
    fail(ErrorKind::kNotFound, file, ": model_type is missing and ", classes,
         " names no model kantu runs (kantu runs: ", supported_list(), ")");
  }
  fail(ErrorKind::kUnsupported, file, ": unsupported model type ", model_type, " (", classes,
       "); kantu runs: ", supported_list());
}

}  // namespace kantu
