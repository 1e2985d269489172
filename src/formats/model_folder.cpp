#include "formats/model_folder.h"

#include <sys/stat.h>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/json_fields.h"

namespace kantu {

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// dir + "/" + name when that file exists, else "".
std::string if_present(const std::string& dir, const char* name) {
  std::string path = dir + "/" + name;
  return file_exists(path) ? path : std::string();
}

TokenizerFiles find_tokenizer_files(const std::string& dir) {
  TokenizerFiles t;
  t.tokenizer_json = if_present(dir, "tokenizer.json");
  t.vocab_json = if_present(dir, "vocab.json");
  t.merges_txt = if_present(dir, "merges.txt");
  t.tokenizer_config_json = if_present(dir, "tokenizer_config.json");
  t.chat_template_json = if_present(dir, "chat_template.json");
  t.chat_template_jinja = if_present(dir, "chat_template.jinja");
  t.special_tokens_map_json = if_present(dir, "special_tokens_map.json");
  t.added_tokens_json = if_present(dir, "added_tokens.json");
  return t;
}

}  // namespace

void check_weight_dtypes(const WeightStore& weights) {
  for (const auto& [name, view] : weights.tensors()) {
    if (view->dtype != DType::kBF16 && view->dtype != DType::kF16 && view->dtype != DType::kF32 &&
        !dtype_is_quantized(view->dtype)) {
      fail(ErrorKind::kUnsupported, weights.file_of(name), ": tensor '", name, "' has dtype ",
           dtype_name(view->dtype), "; model weights must be BF16, F16, F32 or a GGUF block type");
    }
  }
}

ModelFolder ModelFolder::open(const std::string& dir_in, const Options& options) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (!is_directory(dir)) fail(ErrorKind::kNotFound, dir, ": no such model folder");
  ModelFolder m;
  m.dir_ = dir;
  m.config_path_ = dir + "/config.json";
  if (!file_exists(m.config_path_)) {
    fail(ErrorKind::kNotFound, m.config_path_,
         ": missing (a model folder holds config.json and the safetensors weights)");
  }
  m.config_ = read_json_file(m.config_path_);
  m.family_ = model_family_from_config(m.config_, m.config_path_);  // checks both fields' types
  JsonFields config(m.config_, m.config_path_);
  m.model_type_ = config.string("model_type", model_family_name(m.family_));
  if (config.has("architectures") && !m.config_.at("architectures").empty()) {
    m.architecture_ = m.config_.at("architectures")[0].get<std::string>();
  }
  m.generation_ = load_generation_config(dir, m.config_, m.config_path_);
  m.preprocessor_path_ = dir + "/preprocessor_config.json";
  // Read here, parsed by the family (its image processor's keys and defaults): models/
  // profile_of, which loading a model and every command that preprocesses go through.
  if (file_exists(m.preprocessor_path_)) m.preprocessor_json_ = read_json_file(m.preprocessor_path_);
  m.video_preprocessor_ = load_video_preprocessor_config(dir);
  m.tokenizer_files_ = find_tokenizer_files(dir);
  if (options.load_weights) {
    m.weights_ = WeightStore::open_folder(dir);
    check_weight_dtypes(*m.weights_);
  }
  return m;
}

WeightStore ModelFolder::take_weights() {
  KANTU_CHECK(weights_.has_value(), "the weights of ", dir_, " were not loaded or already taken");
  WeightStore w = std::move(*weights_);
  weights_.reset();
  return w;
}

bool ModelFolder::is_gguf_path(const std::string& path) {
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return true;
  if (is_directory(path) || !file_exists(path)) return false;
  const MappedFile f = MappedFile::open(path);
  return f.size() >= 4 && f.view().substr(0, 4) == "GGUF";
}

ModelFolder ModelFolder::open_any(const std::string& model, const std::string& mmproj,
                                  const Options& options) {
  if (is_gguf_path(model)) return open_gguf(model, mmproj, options);
  if (!mmproj.empty()) {
    fail(ErrorKind::kInvalidArgument, "--mmproj ", mmproj, " goes with a GGUF model file, but ",
         model, " is not one (a Hugging Face folder holds its vision tower)");
  }
  return open(model, options);
}

const WeightStore& ModelFolder::weights() const {
  KANTU_CHECK(weights_.has_value(), "the model folder ", dir_, " was opened without weights");
  return *weights_;
}

}  // namespace kantu
