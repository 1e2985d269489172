// The registry: formats identifies a model's family (config.json model_type /
// architectures, or GGUF metadata: formats/model_family.h); this table says which
// models/<family>/ implements it. A new family adds one row here and one in formats.
#include <tuple>

#include "core/error.h"
#include "formats/preprocessor_config.h"
#include "image/preprocess.h"
#include "text/chat.h"
#include "models/family.h"
#include "models/llava/checkpoint.h"
#include "models/llava/family.h"
#include "models/qwen2vl/checkpoint.h"
#include "models/qwen2vl/family.h"
#include "models/qwen3vl/checkpoint.h"
#include "models/qwen3vl/family.h"

namespace kantu::models {

namespace {

constexpr Family kFamilies[] = {
    {ModelFamily::kQwen3VL, qwen3vl::profile, qwen3vl::build, qwen3vl::known_configs,
     qwen3vl::checkpoint_tensors, qwen3vl::preprocessor_config, qwen3vl::generation_config},
    // One implementation for both, as in transformers (Qwen2.5-VL derives from Qwen2-VL);
    // the variant comes from the model's family. Its known configs are listed once.
    {ModelFamily::kQwen25VL, qwen2vl::profile, qwen2vl::build, qwen2vl::known_configs,
     qwen2vl::checkpoint_tensors, qwen2vl::preprocessor_config, qwen2vl::generation_config},
    {ModelFamily::kQwen2VL, qwen2vl::profile, qwen2vl::build, nullptr, qwen2vl::checkpoint_tensors,
     qwen2vl::preprocessor_config, qwen2vl::generation_config},
    // One implementation for both (the variant comes from the config); known configs once.
    {ModelFamily::kLlava, llava::profile, llava::build, llava::known_configs, llava::checkpoint_tensors,
     llava::preprocessor_config, llava::generation_config},
    {ModelFamily::kLlavaNext, llava::profile, llava::build, nullptr, llava::checkpoint_tensors,
     llava::preprocessor_config, llava::generation_config},
};

}  // namespace

const Family& family_for(ModelFamily id) {
  for (const Family& f : kFamilies) {
    if (f.id == id) return f;
  }
  fail(ErrorKind::kUnsupported, "model family ", model_family_name(id),
       " has no implementation in this build");
}

std::vector<KnownConfig> known_configs() {
  std::vector<KnownConfig> out;
  for (const Family& f : kFamilies) {
    if (!f.known_configs) continue;
    for (KnownConfig& k : f.known_configs()) out.push_back(std::move(k));
  }
  return out;
}

Json known_config(const std::string& name) {
  std::string known;
  for (const KnownConfig& k : known_configs()) {
    if (k.name == name) return k.config;
    known += (known.empty() ? "" : ", ") + k.name;
  }
  fail(ErrorKind::kInvalidArgument, "unknown model shape '", name, "' (known: ", known, ")");
}

namespace {

const Family& family_of_config(const Json& config) {
  const ModelFamily id = model_family_from_config(config, "config.json");
  const Family& f = family_for(id);
  if (!f.checkpoint_tensors || !f.preprocessor_config || !f.generation_config) {
    fail(ErrorKind::kUnsupported, "kantu cannot write ", model_family_name(id), " checkpoints");
  }
  return f;
}

}  // namespace

std::vector<CheckpointTensor> checkpoint_tensors(const Json& config) {
  return family_of_config(config).checkpoint_tensors(config);
}
Json checkpoint_preprocessor_config(const Json& config) {
  return family_of_config(config).preprocessor_config(config);
}
Json checkpoint_generation_config(const Json& config) {
  return family_of_config(config).generation_config(config);
}

int64_t CheckpointTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t config_positive(const Json& section, const char* section_name, const char* key) {
  if (!section.is_object() || !section.contains(key) || !section[key].is_number_integer() ||
      section[key].get<int64_t>() <= 0)
    fail(ErrorKind::kInvalidArgument, "config.json: ", section_name, ".", key,
         " must be a positive integer");
  return section[key].get<int64_t>();
}

ModelProfile profile_of(const ModelFolder& model) { return family_for(model.family()).profile(model); }

const text::ChatFormat& ModelProfile::chat_format() const {
  if (!chat) fail(chat_error_kind, chat_error);
  return *chat;
}

ModelProfile chat_profile(const ModelFolder& model) {
  ModelProfile p;
  p.family = model_family_name(model.family());
  p.has_vision = model.has_vision();
  try {
    p.chat = text::load_chat_format(model);
  } catch (const Error& e) {
    p.chat_error = e.what();
    p.chat_error_kind = e.kind();
  }
  return p;
}

namespace {

// The processor cuts 3-channel patches of patch_size^2 pixels over temporal_patch_size
// frames and orders them in merge_size^2 windows: the tower must read exactly those.
void check_processor_fits_tower(const ModelFolder& model, const ImagePreprocessConfig& image,
                                const blocks::QwenVisionConfig& tower) {
  for (auto [key, tower_key, value, expected] :
       {std::tuple{"patch_size", "patch_size", int64_t{image.patch_size}, tower.patch_size},
        {"temporal_patch_size", "temporal_patch_size", int64_t{image.temporal_patch_size},
         tower.temporal_patch_size},
        {"merge_size", "spatial_merge_size", int64_t{image.merge_size}, tower.spatial_merge_size}}) {
    if (value != expected) {
      fail(ErrorKind::kCorrupt, processor_origin(model), key, " ", value, " contradicts ", model.config_path(),
           ": vision_config.", tower_key, " ", expected);
    }
  }
  if (tower.in_channels != 3) {
    fail(ErrorKind::kCorrupt, model.config_path(), ": vision_config.in_channels ", tower.in_channels,
         " must be 3 (the image processor gives RGB patches)");
  }
}

}  // namespace

std::string processor_origin(const ModelFolder& model) {
  return model.preprocessor_json().is_null() ? cat(model.dir(), ": the image processor's default ")
                                             : cat(model.preprocessor_path(), ": ");
}

ModelProfile family_profile(const ModelFolder& model, const PreprocessorConfig& defaults,
                            const blocks::QwenVisionConfig* tower) {
  ModelProfile p = chat_profile(model);
  const PreprocessorConfig pre =
      model.preprocessor_json().is_null()
          ? defaults
          : parse_preprocessor_config(model.preprocessor_json(), model.preprocessor_path(), defaults);
  p.image = image_preprocess_config(pre);
  if (tower) check_processor_fits_tower(model, p.image, *tower);
  return p;
}

std::vector<int32_t> eos_ids_of(const ModelFolder& model, const std::vector<int64_t>& family_eos,
                                int64_t vocab_size) {
  const std::vector<int64_t>& ids =
      model.generation().eos_token_ids.empty() ? family_eos : model.generation().eos_token_ids;
  std::vector<int32_t> out;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size) {
      fail(ErrorKind::kCorrupt, model.dir(), ": eos token id ", id, " is outside the vocabulary (",
           vocab_size, ")");
    }
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

}  // namespace kantu::models
