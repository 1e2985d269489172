#include "runtime/gguf_llava_metadata.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/gguf_metadata.h"
#include "text/sentencepiece_model.h"

namespace kantu::runtime {

namespace fs = std::filesystem;

namespace {

bool looks_special(const std::string& t) {  // the converter's does_token_look_special
  return (t.starts_with("<|") && t.ends_with("|>")) || t == "<pad>" || t == "<mask>";
}

// "<s>" or {"content": "<s>", ...}
std::string token_content(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return {};
}

std::string chat_template(const fs::path& dir) {
  if (fs::exists(dir / "chat_template.jinja")) return read_file((dir / "chat_template.jinja").string());
  for (const char* name : {"chat_template.json", "tokenizer_config.json"}) {
    if (!fs::exists(dir / name)) continue;
    const Json j = read_json_file((dir / name).string());
    if (j.contains("chat_template") && j["chat_template"].is_string()) return j["chat_template"].get<std::string>();
  }
  fail(ErrorKind::kNotFound, "tokenizer folder ", dir.string(), " has no chat template");
}

int64_t deepest_feature(const llava::Config& c) {
  const std::vector<int64_t> features = c.feature_indexes();
  return *std::max_element(features.begin(), features.end());
}

}  // namespace

void add_llava_text_metadata(GgufWriter& w, const llava::Config& c, DType weights) {
  const llava::TextConfig& t = c.text;
  w.add_string("general.architecture", "llama");
  w.add_string("general.type", "model");
  w.add_string("general.name", std::string("kantu synth ") + (c.next ? "llava_next" : "llava"));
  w.add_uint32("general.file_type", gguf_file_type(weights));
  w.add_uint32("general.quantization_version", 2);
  w.add_uint32("llama.block_count", static_cast<uint32_t>(t.num_layers));
  w.add_uint32("llama.context_length", static_cast<uint32_t>(t.max_position_embeddings));
  w.add_uint32("llama.embedding_length", static_cast<uint32_t>(t.hidden_size));
  w.add_uint32("llama.feed_forward_length", static_cast<uint32_t>(t.intermediate_size));
  w.add_uint32("llama.attention.head_count", static_cast<uint32_t>(t.num_heads));
  w.add_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(t.num_kv_heads));
  w.add_uint32("llama.rope.dimension_count", static_cast<uint32_t>(t.head_dim));
  w.add_uint32("llama.vocab_size", static_cast<uint32_t>(t.vocab_size));
  w.add_float32("llama.attention.layer_norm_rms_epsilon", t.rms_norm_eps);
  w.add_float32("llama.rope.freq_base", static_cast<float>(t.rope_theta));
}

void add_llama_tokenizer_metadata(GgufWriter& w, int64_t vocab_size, const std::string& tokenizer_dir) {
  const fs::path dir(tokenizer_dir);
  const std::string model_file = (dir / "tokenizer.model").string();
  if (!fs::exists(model_file)) fail(ErrorKind::kNotFound, "tokenizer folder ", tokenizer_dir, " has no tokenizer.model");
  const text::SentencePieceModel sp = text::parse_sentencepiece_model(read_file(model_file), model_file);
  const auto n = static_cast<size_t>(vocab_size);
  std::vector<std::string> tokens(n);
  std::vector<float> scores(n, -1000.0f);
  std::vector<int32_t> types(n, static_cast<int32_t>(text::PieceType::kUnused));
  for (size_t i = 0; i < n; ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (size_t i = 0; i < sp.pieces.size() && i < n; ++i) {
    tokens[i] = sp.pieces[i].piece;
    scores[i] = sp.pieces[i].score;
    types[i] = static_cast<int32_t>(sp.pieces[i].type);
  }
  const std::string config_file = (dir / "tokenizer_config.json").string();
  const Json config = fs::exists(config_file) ? read_json_file(config_file) : Json::object();
  if (config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
    for (const auto& [key, entry] : config["added_tokens_decoder"].items()) {
      size_t id = 0;
      try {
        id = std::stoul(key);
      } catch (const std::exception&) {
        fail(ErrorKind::kCorrupt, config_file, ": added token id '", key, "' is not a number");
      }
      if (id >= n) continue;
      const std::string content = token_content(entry);
      types[id] = static_cast<int32_t>(entry.value("special", false) || looks_special(content)
                                           ? text::PieceType::kControl
                                           : text::PieceType::kUserDefined);
      scores[id] = -1000.0f;
      tokens[id] = content;
    }
  }
  auto special = [&](const char* name, const char* key, int64_t fallback) {
    const std::string t = config.contains(name) ? token_content(config[name]) : "";
    const auto at = t.empty() ? tokens.end() : std::find(tokens.begin(), tokens.end(), t);
    w.add_uint32(key, static_cast<uint32_t>(at == tokens.end() ? fallback : at - tokens.begin()));
  };
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.add_bool("tokenizer.ggml.add_space_prefix", sp.add_dummy_prefix);
  w.add_bool("tokenizer.ggml.remove_extra_whitespaces", sp.remove_extra_whitespaces);
  special("bos_token", "tokenizer.ggml.bos_token_id", 1);
  special("eos_token", "tokenizer.ggml.eos_token_id", 2);
  special("unk_token", "tokenizer.ggml.unknown_token_id", 0);
  if (config.contains("pad_token") && !config["pad_token"].is_null()) special("pad_token", "tokenizer.ggml.padding_token_id", 0);
  w.add_bool("tokenizer.ggml.add_bos_token", config.value("add_bos_token", true));
  w.add_bool("tokenizer.ggml.add_eos_token", config.value("add_eos_token", false));
  w.add_string("tokenizer.chat_template", chat_template(dir));
}

void add_llava_mmproj_metadata(GgufWriter& w, const Json& config, const llava::Config& c,
                               const Json& preprocessor, DType weights) {
  const llava::VisionConfig& v = c.vision;
  w.add_string("general.architecture", "clip");
  w.add_string("general.name", std::string("kantu synth ") + (c.next ? "llava_next" : "llava") + " mmproj");
  w.add_uint32("general.file_type", gguf_file_type(weights));
  w.add_bool("clip.has_text_encoder", false);
  w.add_bool("clip.has_vision_encoder", true);
  w.add_bool("clip.has_llava_projector", true);
  w.add_string("clip.projector_type", "mlp");
  w.add_uint32("clip.vision.image_size", static_cast<uint32_t>(v.image_size));
  w.add_uint32("clip.vision.patch_size", static_cast<uint32_t>(v.patch_size));
  w.add_uint32("clip.vision.embedding_length", static_cast<uint32_t>(v.hidden_size));
  w.add_uint32("clip.vision.feed_forward_length", static_cast<uint32_t>(v.intermediate_size));
  const Json& vc = config.contains("vision_config") ? config["vision_config"] : Json::object();
  w.add_uint32("clip.vision.projection_dim", vc.value("projection_dim", 512u));
  w.add_uint32("clip.vision.attention.head_count", static_cast<uint32_t>(v.num_heads));
  w.add_float32("clip.vision.attention.layer_norm_epsilon", v.layer_norm_eps);
  w.add_uint32("clip.vision.block_count", static_cast<uint32_t>(deepest_feature(c)));
  const std::vector<int64_t> features = c.feature_indexes();
  const std::vector<int32_t> layers(features.begin(), features.end());
  w.add_array("clip.vision.feature_layer", std::span<const int32_t>(layers));
  if (c.next) {
    std::vector<int32_t> flat;
    for (const auto& p : c.image_grid_pinpoints) {
      flat.push_back(static_cast<int32_t>(p[0]));
      flat.push_back(static_cast<int32_t>(p[1]));
    }
    w.add_array("clip.vision.image_grid_pinpoints", std::span<const int32_t>(flat));
    w.add_string("clip.vision.mm_patch_merge_type", "spatial_unpad");
    w.add_string("clip.vision.image_aspect_ratio", "anyres");
  }
  add_image_normalization(w, preprocessor);
  w.add_bool("clip.use_gelu", v.hidden_act == "gelu");
}

bool llava_gguf_keeps(const std::string& hf_name, const llava::Config& c) {
  if (hf_name.find("post_layernorm") != std::string::npos) return false;
  const std::string blocks = "vision_tower.vision_model.encoder.layers.";
  if (!hf_name.starts_with(blocks)) return true;
  return std::stoll(hf_name.substr(blocks.size())) < deepest_feature(c);
}

}  // namespace kantu::runtime
