// The converter's metadata for the Qwen-VL families (conversion/base.py TextModel /
// MmprojModel, conversion/qwen3vl.py and qwenvl.py, gguf-py SpecialVocab), rebuilt from
// config.json and the tokenizer files.
#include "formats/gguf_metadata.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace kantu {

namespace fs = std::filesystem;

namespace {

// gguf-py TokenType
constexpr int32_t kTokenNormal = 1;
constexpr int32_t kTokenControl = 3;
constexpr int32_t kTokenUserDefined = 4;
constexpr int32_t kTokenUnused = 5;

uint32_t u32(const Json& section, const char* section_name, const char* key) {
  if (!section.contains(key) || !section[key].is_number_integer() || section[key].get<int64_t>() < 0 ||
      section[key].get<int64_t>() > 0xffffffffll)
    fail(ErrorKind::kInvalidArgument, "config.json: ", section_name, ".", key,
         " must be a non-negative integer");
  return static_cast<uint32_t>(section[key].get<int64_t>());
}

double number(const Json& section, const char* section_name, const char* key) {
  if (!section.contains(key) || !section[key].is_number())
    fail(ErrorKind::kInvalidArgument, "config.json: ", section_name, ".", key, " must be a number");
  return section[key].get<double>();
}

std::vector<int64_t> deepstack_indexes(const Json& vision) {
  std::vector<int64_t> out;
  if (vision.contains("deepstack_visual_indexes"))
    for (const Json& i : vision["deepstack_visual_indexes"]) out.push_back(i.get<int64_t>());
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kNotFound, "cannot read ", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "<|im_end|>" or {"content": "<|im_end|>", ...} or null.
std::string token_content(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return {};
}

bool looks_special(const std::string& t) {  // the converter's does_token_look_special
  return (t.starts_with("<|") && t.ends_with("|>")) || t == "<pad>" || t == "<mask>";
}

struct Vocab {
  std::vector<std::string> tokens;  // by id; empty = no token
  std::vector<int32_t> types;
  std::vector<std::string> merges;
};

void put_token(Vocab& v, int64_t id, const std::string& token, int32_t type, const std::string& file) {
  if (id < 0 || id >= static_cast<int64_t>(v.tokens.size()))
    fail(ErrorKind::kCorrupt, file, ": token id ", id, " is outside the vocabulary (",
         v.tokens.size(), " entries, text_config.vocab_size)");
  v.tokens[static_cast<size_t>(id)] = token;
  v.types[static_cast<size_t>(id)] = type;
}

Vocab read_vocab(const fs::path& dir, size_t vocab_size) {
  Vocab v;
  v.tokens.resize(vocab_size);
  v.types.assign(vocab_size, kTokenUnused);
  const bool slow = fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt");
  Json fast;
  if (slow) {
    const std::string file = (dir / "vocab.json").string();
    const Json vocab = read_json_file(file);
    if (!vocab.is_object()) fail(ErrorKind::kCorrupt, file, ": expected an object of token: id");
    for (const auto& [token, id] : vocab.items()) {
      if (!id.is_number_integer()) fail(ErrorKind::kCorrupt, file, ": id of '", token, "' is not an integer");
      put_token(v, id.get<int64_t>(), token, kTokenNormal, file);
    }
    std::istringstream lines(read_text(dir / "merges.txt"));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || line.starts_with("#version")) continue;
      v.merges.push_back(line);
    }
  } else if (fs::exists(dir / "tokenizer.json")) {
    const std::string file = (dir / "tokenizer.json").string();
    fast = read_json_file(file);
    if (!fast.contains("model") || !fast["model"].contains("vocab") || !fast["model"]["vocab"].is_object())
      fail(ErrorKind::kCorrupt, file, ": no model.vocab object");
    for (const auto& [token, id] : fast["model"]["vocab"].items()) {
      if (!id.is_number_integer()) fail(ErrorKind::kCorrupt, file, ": id of '", token, "' is not an integer");
      put_token(v, id.get<int64_t>(), token, kTokenNormal, file);
    }
    for (const Json& m : fast["model"].value("merges", Json::array())) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        fail(ErrorKind::kCorrupt, file, ": a merge is neither \"a b\" nor [a, b]");
      }
    }
  } else {
    fail(ErrorKind::kNotFound, "tokenizer folder ", dir.string(),
         " has neither vocab.json + merges.txt nor tokenizer.json");
  }
  if (v.merges.empty()) fail(ErrorKind::kCorrupt, "tokenizer folder ", dir.string(), " has no merges");

  // Added tokens: tokenizer_config.json's added_tokens_decoder, else tokenizer.json's list.
  const std::string config_file = (dir / "tokenizer_config.json").string();
  const Json config = fs::exists(config_file) ? read_json_file(config_file) : Json::object();
  auto add = [&](int64_t id, const std::string& content, bool special, const std::string& file) {
    put_token(v, id, content, special || looks_special(content) ? kTokenControl : kTokenUserDefined,
              file);
  };
  if (config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
    for (const auto& [id_text, entry] : config["added_tokens_decoder"].items()) {
      int64_t id = -1;
      try {
        id = std::stoll(id_text);
      } catch (const std::exception&) {
        fail(ErrorKind::kCorrupt, config_file, ": added token id '", id_text, "' is not a number");
      }
      add(id, token_content(entry), entry.value("special", false), config_file);
    }
  } else if (fast.contains("added_tokens") && fast["added_tokens"].is_array()) {
    for (const Json& entry : fast["added_tokens"])
      add(entry.value("id", int64_t{-1}), token_content(entry), entry.value("special", false),
          (dir / "tokenizer.json").string());
  }
  for (size_t id = 0; id < vocab_size; ++id)
    if (v.types[id] == kTokenUnused) v.tokens[id] = "[PAD" + std::to_string(id) + "]";
  return v;
}

std::string chat_template(const fs::path& dir) {
  if (fs::exists(dir / "chat_template.jinja")) return read_text(dir / "chat_template.jinja");
  for (const char* name : {"chat_template.json", "tokenizer_config.json"}) {
    if (!fs::exists(dir / name)) continue;
    const Json j = read_json_file((dir / name).string());
    if (j.contains("chat_template") && j["chat_template"].is_string())
      return j["chat_template"].get<std::string>();
  }
  fail(ErrorKind::kNotFound, "tokenizer folder ", dir.string(), " has no chat template");
}

std::optional<int64_t> find_id(const Vocab& v, const std::string& token) {
  if (token.empty()) return std::nullopt;
  for (size_t id = v.tokens.size(); id-- > 0;)  // added tokens sit at the end
    if (v.tokens[id] == token && v.types[id] != kTokenUnused) return static_cast<int64_t>(id);
  return std::nullopt;
}

}  // namespace

uint32_t gguf_file_type(DType weights) {
  switch (weights) {  // gguf-py LlamaFileType
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kBF16: return 32;
    case DType::kQ8_0: return 7;
    default: fail(ErrorKind::kUnsupported, "no GGUF file type for ", dtype_name(weights), " weights");
  }
}

// The text section: text_config, or the top level of the flat Qwen2/2.5-VL layout.
static const Json& text_section(const Json& config, const char** name) {
  if (config.contains("text_config")) {
    *name = "text_config";
    return config.at("text_config");
  }
  *name = "the top level";
  return config;
}

void add_text_metadata(GgufWriter& w, ModelFamily family, const Json& config, DType weights) {
  const char* ts = nullptr;
  const Json& t = text_section(config, &ts);
  const bool qwen3 = family == ModelFamily::kQwen3VL;
  const std::string arch = qwen3 ? "qwen3vl" : "qwen2vl";
  const std::string a = arch + ".";
  w.add_string("general.architecture", arch);
  w.add_string("general.type", "model");
  w.add_string("general.name", std::string("kantu synth ") + model_family_name(family));
  w.add_uint32("general.file_type", gguf_file_type(weights));
  w.add_uint32("general.quantization_version", 2);
  w.add_uint32(a + "block_count", u32(t, ts, "num_hidden_layers"));
  w.add_uint32(a + "context_length", u32(t, ts, "max_position_embeddings"));
  w.add_uint32(a + "embedding_length", u32(t, ts, "hidden_size"));
  w.add_uint32(a + "feed_forward_length", u32(t, ts, "intermediate_size"));
  w.add_uint32(a + "attention.head_count", u32(t, ts, "num_attention_heads"));
  w.add_uint32(a + "attention.head_count_kv", u32(t, ts, "num_key_value_heads"));
  w.add_float32(a + "rope.freq_base", static_cast<float>(number(t, ts, "rope_theta")));
  w.add_float32(a + "attention.layer_norm_rms_epsilon",
                static_cast<float>(number(t, ts, "rms_norm_eps")));
  if (qwen3) {
    w.add_uint32(a + "attention.key_length", u32(t, ts, "head_dim"));
    w.add_uint32(a + "attention.value_length", u32(t, ts, "head_dim"));
  }
  std::vector<int32_t> sections;
  if (t.contains("rope_scaling") && t["rope_scaling"].is_object() &&
      t["rope_scaling"].contains("mrope_section"))
    for (const Json& s : t["rope_scaling"]["mrope_section"]) sections.push_back(s.get<int32_t>());
  if (sections.empty() || sections.size() > 4)
    fail(ErrorKind::kInvalidArgument, "config.json: rope_scaling.mrope_section must list 1 to 4 sizes");
  sections.resize(4, 0);  // [time, height, width, extra]
  w.add_array(a + "rope.dimension_sections", std::span<const int32_t>(sections));
  if (qwen3) {
    w.add_uint32(a + "n_deepstack_layers",
                 static_cast<uint32_t>(deepstack_indexes(config.at("vision_config")).size()));
  }
}

void add_tokenizer_metadata(GgufWriter& w, const Json& config, const std::string& tokenizer_dir) {
  const fs::path dir(tokenizer_dir);
  if (!fs::is_directory(dir))
    fail(ErrorKind::kNotFound, "tokenizer folder ", tokenizer_dir, " does not exist");
  const char* ts = nullptr;
  const Json& t = text_section(config, &ts);
  const Vocab v = read_vocab(dir, u32(t, ts, "vocab_size"));
  const std::string config_file = (dir / "tokenizer_config.json").string();
  const Json tc = fs::exists(config_file) ? read_json_file(config_file) : Json::object();

  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "qwen2");
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(v.tokens));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(v.types));
  w.add_array("tokenizer.ggml.merges", std::span<const std::string>(v.merges));
  // Special ids: from the tokenizer config's spellings, else config.json's ids (as the
  // converter's SpecialVocab does).
  auto special = [&](const char* name, const char* config_key) -> std::optional<int64_t> {
    if (tc.contains(name))
      if (auto id = find_id(v, token_content(tc[name]))) return id;
    if (t.contains(config_key) && t[config_key].is_number_integer()) return t[config_key].get<int64_t>();
    return std::nullopt;
  };
  if (auto id = special("eos_token", "eos_token_id")) w.add_uint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(*id));
  if (auto id = special("pad_token", "pad_token_id")) w.add_uint32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(*id));
  if (auto id = special("bos_token", "bos_token_id")) w.add_uint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(*id));
  w.add_bool("tokenizer.ggml.add_bos_token", tc.value("add_bos_token", false));
  w.add_string("tokenizer.chat_template", chat_template(dir));
}

void add_mmproj_metadata(GgufWriter& w, ModelFamily family, const Json& config,
                         const Json& preprocessor, DType weights) {
  const char* ts = nullptr;
  const Json& t = text_section(config, &ts);
  const Json& v = config.at("vision_config");
  const char* vs = "vision_config";
  const uint32_t patch = u32(v, vs, "patch_size");
  w.add_string("general.architecture", "clip");
  w.add_string("general.name", std::string("kantu synth ") + model_family_name(family) + " mmproj");
  w.add_uint32("general.file_type", gguf_file_type(weights));
  w.add_bool("clip.has_vision_encoder", true);
  w.add_uint32("clip.vision.projection_dim", u32(t, ts, "hidden_size"));
  w.add_uint32("clip.vision.patch_size", patch);
  w.add_uint32("clip.vision.block_count", u32(v, vs, "depth"));
  w.add_uint32("clip.vision.attention.head_count", u32(v, vs, "num_heads"));
  // the converter uses the text model's RMS eps for the vision norms
  w.add_float32("clip.vision.attention.layer_norm_epsilon",
                static_cast<float>(number(t, ts, "rms_norm_eps")));
  add_image_normalization(w, preprocessor);
  if (family == ModelFamily::kQwen3VL) {
    const uint32_t positions = u32(v, vs, "num_position_embeddings");
    const uint32_t side = static_cast<uint32_t>(std::lround(std::sqrt(static_cast<double>(positions))));
    if (side * side != positions)
      fail(ErrorKind::kInvalidArgument, "config.json: vision_config.num_position_embeddings (",
           positions, ") must be a square");
    w.add_string("clip.projector_type", "qwen3vl_merger");
    w.add_bool("clip.use_gelu", true);
    w.add_uint32("clip.vision.image_size", side * patch);  // the converter's sqrt(positions) * patch
    w.add_uint32("clip.vision.embedding_length", u32(v, vs, "hidden_size"));
    w.add_uint32("clip.vision.feed_forward_length", u32(v, vs, "intermediate_size"));
    w.add_uint32("clip.vision.spatial_merge_size", u32(v, vs, "spatial_merge_size"));
    std::vector<bool> is_deepstack(u32(v, vs, "depth"), false);
    for (int64_t i : deepstack_indexes(v))
      if (i >= 0 && i < static_cast<int64_t>(is_deepstack.size())) is_deepstack[static_cast<size_t>(i)] = true;
    w.add_bool_array("clip.vision.is_deepstack_layers", is_deepstack);
    return;
  }
  // conversion/qwenvl.py: image_size 560; Qwen2-VL's "intermediate_size" is the
  // config's hidden_size (the merger output), a converter quirk kept as it is.
  w.add_uint32("clip.vision.image_size", 560);
  if (family == ModelFamily::kQwen25VL) {
    w.add_string("clip.projector_type", "qwen2.5vl_merger");
    w.add_bool("clip.use_silu", true);
    w.add_uint32("clip.vision.embedding_length", u32(v, vs, "hidden_size"));
    w.add_uint32("clip.vision.feed_forward_length", u32(v, vs, "intermediate_size"));
    const std::vector<int64_t> full = v.value("fullatt_block_indexes", std::vector<int64_t>{7, 15, 23, 31});
    if (full.empty()) fail(ErrorKind::kInvalidArgument, "config.json: fullatt_block_indexes is empty");
    const int64_t pattern = full[0] + 1;
    for (size_t i = 1; i < full.size(); ++i) {
      if (full[i] - full[i - 1] != pattern)  // llama.cpp can only express a period
        fail(ErrorKind::kUnsupported, "config.json: fullatt_block_indexes are not every ", pattern,
             "th block, which llama.cpp's n_wa_pattern cannot express");
    }
    w.add_uint32("clip.vision.n_wa_pattern", static_cast<uint32_t>(pattern));
  } else {
    w.add_string("clip.projector_type", "qwen2vl_merger");
    w.add_uint32("clip.vision.embedding_length", u32(v, vs, "embed_dim"));
    w.add_uint32("clip.vision.feed_forward_length", u32(v, vs, "hidden_size"));
  }
}

void add_image_normalization(GgufWriter& w, const Json& preprocessor) {
  std::vector<float> mean, stdv;
  for (const char* key : {"image_mean", "image_std"}) {
    if (!preprocessor.contains(key) || !preprocessor[key].is_array() || preprocessor[key].size() != 3)
      fail(ErrorKind::kInvalidArgument, "preprocessor_config.json: ", key, " must list 3 numbers");
    for (const Json& x : preprocessor[key]) {
      if (!x.is_number()) fail(ErrorKind::kInvalidArgument, "preprocessor_config.json: ", key, " must list 3 numbers");
      (key[6] == 'm' ? mean : stdv).push_back(x.get<float>());
    }
  }
  w.add_array("clip.vision.image_mean", std::span<const float>(mean));
  w.add_array("clip.vision.image_std", std::span<const float>(stdv));
}

}  // namespace kantu
