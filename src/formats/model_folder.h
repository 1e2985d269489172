// A Hugging Face model folder exactly as downloaded: config.json (family from
// model_type or architectures), generation_config.json, preprocessor_config.json, the tokenizer and chat
// template files, and the safetensors weights (one file or shards), memory-mapped.
// What formats can check is validated on open (JSON syntax, the family, generation and
// video settings, weight dtypes); each failure names the file (and field or tensor). The
// family's own configs (config.json's sizes, preprocessor_config.json's processor keys)
// are parsed and checked by the family in models/ (profile_of, Model::load).
//
// llama.cpp's GGUF pair (text model file + mmproj vision file) opens as the same object
// (open_gguf, in gguf_model.cpp): config() is the config.json the metadata stands for,
// weights() holds the tensors under their Hugging Face names and shapes, and the
// tokenizer and chat template come from the text file's metadata (gguf_model()).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/json.h"
#include "formats/generation_config.h"
#include "formats/gguf.h"
#include "formats/model_family.h"
#include "formats/preprocessor_config.h"
#include "formats/weight_store.h"

namespace kantu {

// Full paths of the tokenizer-related files; empty when the folder lacks the file.
struct TokenizerFiles {
  std::string tokenizer_json;         // tokenizer.json (fast tokenizer: vocab, merges, added)
  std::string vocab_json;             // vocab.json (byte-level BPE vocabulary)
  std::string merges_txt;             // merges.txt
  std::string tokenizer_config_json;  // tokenizer_config.json (added tokens, maybe a template)
  std::string chat_template_json;     // chat_template.json ({"chat_template": "..."})
  std::string chat_template_jinja;    // chat_template.jinja (newer layout)
  std::string special_tokens_map_json;
  std::string added_tokens_json;

  // True when a BPE vocabulary can be built: tokenizer.json, or vocab.json + merges.txt.
  bool has_vocabulary() const {
    return !tokenizer_json.empty() || (!vocab_json.empty() && !merges_txt.empty());
  }
};

class ModelFolder {
 public:
  struct Options {
    bool load_weights = true;  // false: configs only (fast; e.g. for preprocessing)
  };

  // Throws Error(kNotFound) for a missing folder or config.json, Error(kCorrupt) for a
  // malformed file, Error(kUnsupported) for an unknown model_type or weight dtype.
  static ModelFolder open(const std::string& dir, const Options& options);
  static ModelFolder open(const std::string& dir) { return open(dir, Options{}); }
  // A GGUF pair: the text model file and, optionally, its mmproj file. Without mmproj the
  // model is text-only (has_vision() false). Errors name the file and the key or tensor;
  // Error(kUnsupported) for another architecture or projector.
  static ModelFolder open_gguf(const std::string& model_path, const std::string& mmproj_path,
                               const Options& options);
  // What a user passes as -m (and --mmproj): a .gguf file opens with open_gguf, anything
  // else as a folder (where an mmproj is an Error(kInvalidArgument)).
  static ModelFolder open_any(const std::string& model, const std::string& mmproj,
                              const Options& options);
  // True for a path that names a GGUF file (by extension or by its magic bytes).
  static bool is_gguf_path(const std::string& path);

  const std::string& dir() const { return dir_; }
  ModelFamily family() const { return family_; }
  const std::string& model_type() const { return model_type_; }
  // architectures[0] from config.json, or "" when absent.
  const std::string& architecture() const { return architecture_; }

  // The raw config.json: model families parse their own typed configs from it.
  const Json& config() const { return config_; }
  const std::string& config_path() const { return config_path_; }

  const GenerationConfig& generation() const { return generation_; }
  // preprocessor_config.json as read (for GGUF: the mmproj's image settings in the same
  // keys); null when absent. Families parse and check it over their processor defaults.
  const Json& preprocessor_json() const { return preprocessor_json_; }
  const std::string& preprocessor_path() const { return preprocessor_path_; }
  const VideoPreprocessorConfig& video_preprocessor() const { return video_preprocessor_; }
  const TokenizerFiles& tokenizer_files() const { return tokenizer_files_; }

  bool has_weights() const { return weights_.has_value(); }
  // Throws Error(kInternal) if opened with load_weights = false.
  const WeightStore& weights() const;
  // Moves the weights out (the model keeps them); weights() fails afterwards.
  WeightStore take_weights();

  // False for a text-only GGUF (no mmproj): config() then has no vision_config.
  bool has_vision() const { return has_vision_; }
  bool is_gguf() const { return gguf_model_ != nullptr; }
  // The GGUF text model file (tokenizer.ggml.*, tokenizer.chat_template), or nullptr.
  const GgufFile* gguf_model() const { return gguf_model_.get(); }

 private:
  std::string dir_;
  ModelFamily family_ = ModelFamily::kQwen3VL;
  std::string model_type_;
  std::string architecture_;
  Json config_;
  std::string config_path_;
  GenerationConfig generation_;
  Json preprocessor_json_;  // null: absent
  std::string preprocessor_path_;
  VideoPreprocessorConfig video_preprocessor_;
  TokenizerFiles tokenizer_files_;
  std::optional<WeightStore> weights_;
  bool has_vision_ = true;
  std::shared_ptr<const GgufFile> gguf_model_, gguf_mmproj_;
};

// Checks that every tensor has a dtype model weights may use (BF16, F16, F32, and the
// block-quantized GGUF types);
// otherwise Error(kUnsupported) naming the tensor and its file.
void check_weight_dtypes(const WeightStore& weights);

}  // namespace kantu
