// The registry: formats identifies a model's family (config.json model_type /
// architectures, or GGUF metadata: formats/model_family.h); this table says which
// models/<family>/ implements it. A new family adds one row here and one in formats.
#include "core/error.h"
#include "formats/preprocessor_config.h"
#include "image/preprocess.h"
#include "text/chat.h"
#include "models/family.h"
#include "models/llava/family.h"
#include "models/qwen3vl/family.h"

namespace kantu::models {

namespace {

constexpr Family kFamilies[] = {
    {ModelFamily::kQwen3VL, qwen3vl::profile, qwen3vl::build},
    {ModelFamily::kLlava, llava::profile, llava::build},
    {ModelFamily::kLlavaNext, llava::profile, llava::build},
};

}  // namespace

const Family& family_for(ModelFamily id) {
  for (const Family& f : kFamilies) {
    if (f.id == id) return f;
  }
  fail(ErrorKind::kUnsupported, "model family ", model_family_name(id),
       " has no implementation in this build");
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

ModelProfile family_profile(const ModelFolder& model, const PreprocessorConfig& defaults) {
  ModelProfile p = chat_profile(model);
  const PreprocessorConfig pre =
      model.preprocessor_json().is_null()
          ? defaults
          : parse_preprocessor_config(model.preprocessor_json(), model.preprocessor_path(), defaults);
  p.image = image_preprocess_config(pre);
  return p;
}

std::vector<int32_t> eos_ids_of(const ModelFolder& model, std::vector<int64_t> config_eos,
                                int64_t vocab_size) {
  if (!model.generation().eos_token_ids.empty()) config_eos = model.generation().eos_token_ids;
  std::vector<int32_t> out;
  for (int64_t id : config_eos) {
    if (id < 0 || id >= vocab_size) {
      fail(ErrorKind::kCorrupt, model.dir(), ": eos token id ", id, " is outside the vocabulary (",
           vocab_size, ")");
    }
    out.push_back(static_cast<int32_t>(id));
  }
  return out;
}

}  // namespace kantu::models
