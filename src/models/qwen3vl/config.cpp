#include "models/qwen3vl/config.h"

#include <cmath>
#include <optional>
#include <utility>

#include "core/error.h"
#include "formats/model_folder.h"

namespace kantu::models::qwen3vl {
namespace {

// Field access with errors that name the file and the dotted field path.
class Fields {
 public:
  Fields(const Json& json, std::string file, std::string prefix)
      : json_(json), file_(std::move(file)), prefix_(std::move(prefix)) {
    if (!json_.is_object()) fail(ErrorKind::kCorrupt, file_, ": ", where(), " must be an object");
  }

  std::string path(const std::string& key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
  std::string where() const { return prefix_.empty() ? "the top level" : prefix_; }
  bool has(const std::string& key) const {
    auto it = json_.find(key);
    return it != json_.end() && !it->is_null();
  }
  const Json& get(const std::string& key) const {
    if (!has(key)) fail(ErrorKind::kCorrupt, file_, ": ", path(key), " is missing");
    return json_.at(key);
  }
  [[noreturn]] void wrong(const std::string& key, const std::string& what) const {
    fail(ErrorKind::kCorrupt, file_, ": ", path(key), " must be ", what);
  }
  Fields object(const std::string& key) const {
    const Json& j = get(key);
    if (!j.is_object()) wrong(key, "an object");
    return Fields(j, file_, path(key));
  }
  int64_t integer(const std::string& key) const {
    const Json& j = get(key);
    if (!j.is_number_integer()) wrong(key, "an integer");
    return j.get<int64_t>();
  }
  int64_t positive(const std::string& key) const {
    int64_t v = integer(key);
    if (v <= 0) wrong(key, "a positive integer");
    return v;
  }
  int64_t positive(const std::string& key, int64_t fallback) const {
    return has(key) ? positive(key) : fallback;
  }
  double number(const std::string& key) const {
    const Json& j = get(key);
    if (!j.is_number()) wrong(key, "a number");
    return j.get<double>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    const Json& j = get(key);
    if (!j.is_boolean()) wrong(key, "true or false");
    return j.get<bool>();
  }
  std::string string(const std::string& key) const {
    const Json& j = get(key);
    if (!j.is_string()) wrong(key, "a string");
    return j.get<std::string>();
  }
  std::vector<int64_t> int_list(const std::string& key) const {
    const Json& j = get(key);
    if (!j.is_array()) wrong(key, "a list of integers");
    std::vector<int64_t> out;
    for (const Json& e : j) {
      if (!e.is_number_integer()) wrong(key, "a list of integers");
      out.push_back(e.get<int64_t>());
    }
    return out;
  }
  const std::string& file() const { return file_; }

 private:
  const Json& json_;
  std::string file_;
  std::string prefix_;
};

Activation parse_activation(const Fields& f, const std::string& key) {
  std::string name = f.string(key);
  const std::optional<Activation> act = blocks::activation_from_name(name);
  if (!act || *act == Activation::kQuickGelu) {
    fail(ErrorKind::kUnsupported, f.file(), ": ", f.path(key), " = \"", name,
         "\" is not a supported activation (silu, gelu_pytorch_tanh, gelu)");
  }
  return *act;
}

// rope_theta / mrope_section live in rope_scaling (transformers 4.x) or rope_parameters (v5).
void parse_rope(const Fields& text, TextConfig& cfg) {
  std::optional<Fields> params;
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (text.has(key)) {
      params.emplace(text.object(key));
      break;
    }
  }
  if (text.has("rope_theta")) {
    cfg.rope_theta = text.number("rope_theta");
  } else if (params && params->has("rope_theta")) {
    cfg.rope_theta = params->number("rope_theta");
  } else {
    fail(ErrorKind::kCorrupt, text.file(), ": ", text.path("rope_theta"), " is missing");
  }
  if (!(cfg.rope_theta > 0)) text.wrong("rope_theta", "a positive number");
  if (!params) fail(ErrorKind::kCorrupt, text.file(), ": ", text.path("rope_scaling"), " is missing");
  if (params->has("rope_type")) {
    std::string type = params->string("rope_type");
    if (type != "default") {
      fail(ErrorKind::kUnsupported, text.file(), ": ", params->path("rope_type"), " = \"", type,
           "\" is not supported (only \"default\")");
    }
  }
  std::vector<int64_t> section = params->int_list("mrope_section");
  // Only the first three entries are read (a fourth, as llama.cpp writes, changes nothing).
  if (section.size() < 3) params->wrong("mrope_section", "a list of 3 integers (T, H, W)");
  for (int i = 0; i < 3; ++i) {
    if (section[i] < 0) params->wrong("mrope_section", "non-negative");
    cfg.mrope_section[i] = section[i];
  }
  // transformers' apply_interleaved_mrope writes H into indices 1, 4, 7, ... below
  // 3 * section[1] and W into 2, 5, 8, ... below 3 * section[2], each slice clipped at
  // head_dim / 2, and leaves T everywhere else: any non-negative section runs, a section
  // running past the end included. `mrope_interleaved` is not read there (the Qwen3-VL
  // rotary always interleaves), so it is not here either.
}

TextConfig parse_text(const Fields& t) {
  TextConfig c;
  c.hidden_size = t.positive("hidden_size");
  c.intermediate_size = t.positive("intermediate_size");
  c.num_layers = t.positive("num_hidden_layers");
  c.num_heads = t.positive("num_attention_heads");
  c.num_kv_heads = t.positive("num_key_value_heads", c.num_heads);
  c.head_dim = t.positive("head_dim", c.hidden_size / c.num_heads);
  c.vocab_size = t.positive("vocab_size");
  c.max_position_embeddings = t.positive("max_position_embeddings");
  double eps = t.number("rms_norm_eps");
  if (!(eps > 0 && eps < 1)) t.wrong("rms_norm_eps", "in (0, 1)");
  c.rms_norm_eps = static_cast<float>(eps);
  c.attention_bias = t.boolean("attention_bias", false);
  if (c.attention_bias) {
    fail(ErrorKind::kUnsupported, t.file(), ": ", t.path("attention_bias"),
         " = true is not supported for qwen3_vl");
  }
  c.hidden_act = parse_activation(t, "hidden_act");
  if (c.hidden_act != Activation::kSilu) t.wrong("hidden_act", "\"silu\" (SwiGLU MLP)");
  if (c.num_heads % c.num_kv_heads != 0) {
    fail(ErrorKind::kCorrupt, t.file(), ": ", t.path("num_attention_heads"), " (", c.num_heads,
         ") is not a multiple of num_key_value_heads (", c.num_kv_heads, ")");
  }
  if (c.head_dim % 2 != 0) t.wrong("head_dim", "even");
  parse_rope(t, c);
  if (t.has("bos_token_id")) c.bos_token_id = t.integer("bos_token_id");
  return c;
}

VisionConfig parse_vision(const Fields& v) {
  VisionConfig c;
  c.hidden_size = v.positive("hidden_size");
  c.intermediate_size = v.positive("intermediate_size");
  c.depth = v.positive("depth");
  c.num_heads = v.positive("num_heads");
  c.in_channels = v.positive("in_channels", 3);
  c.patch_size = v.positive("patch_size");
  c.temporal_patch_size = v.positive("temporal_patch_size", 2);
  c.spatial_merge_size = v.positive("spatial_merge_size", 2);
  c.out_hidden_size = v.positive("out_hidden_size");
  c.num_position_embeddings = v.positive("num_position_embeddings");
  c.hidden_act = parse_activation(v, "hidden_act");
  if (c.hidden_size % c.num_heads != 0) {
    fail(ErrorKind::kCorrupt, v.file(), ": ", v.path("hidden_size"), " (", c.hidden_size,
         ") is not a multiple of num_heads (", c.num_heads, ")");
  }
  c.head_dim = c.hidden_size / c.num_heads;
  if (c.head_dim % 4 != 0) {
    fail(ErrorKind::kCorrupt, v.file(), ": vision head_dim ", c.head_dim,
         " must be a multiple of 4 for the 2-D rotary embedding");
  }
  auto side = static_cast<int64_t>(std::llround(std::sqrt(double(c.num_position_embeddings))));
  if (side * side != c.num_position_embeddings) {
    v.wrong("num_position_embeddings", "a perfect square (a square position table)");
  }
  c.pos_grid_side = side;
  c.deepstack_visual_indexes = v.has("deepstack_visual_indexes")
                                   ? v.int_list("deepstack_visual_indexes")
                                   : std::vector<int64_t>{};
  for (int64_t idx : c.deepstack_visual_indexes) {
    if (idx < 0 || idx >= c.depth) {
      fail(ErrorKind::kCorrupt, v.file(), ": ", v.path("deepstack_visual_indexes"),
           " holds ", idx, ", outside the ", c.depth, " vision blocks");
    }
  }
  return c;
}

}  // namespace

Config parse_config(const Json& doc, const std::string& what) {
  Fields top(doc, what, "");
  if (top.has("model_type")) {
    std::string type = top.string("model_type");
    if (type != "qwen3_vl") {
      fail(ErrorKind::kUnsupported, what, ": model_type \"", type,
           "\" is not a Qwen3-VL model (expected \"qwen3_vl\")");
    }
  }
  Config c;
  Fields text = top.object("text_config");
  c.text = parse_text(text);
  c.has_vision = top.has("vision_config");
  if (c.has_vision) c.vision = parse_vision(top.object("vision_config"));
  if (c.has_vision && c.vision.out_hidden_size != c.text.hidden_size) {
    fail(ErrorKind::kCorrupt, what, ": vision_config.out_hidden_size (", c.vision.out_hidden_size,
         ") differs from text_config.hidden_size (", c.text.hidden_size, ")");
  }
  if (int64_t(c.vision.deepstack_visual_indexes.size()) > c.text.num_layers) {
    fail(ErrorKind::kCorrupt, what, ": ", c.vision.deepstack_visual_indexes.size(),
         " deepstack levels but only ", c.text.num_layers, " text layers");
  }
  // The top-level flag decides (transformers reads it there); older files put it in text_config.
  c.tie_word_embeddings = top.has("tie_word_embeddings")
                              ? top.boolean("tie_word_embeddings", false)
                              : text.boolean("tie_word_embeddings", false);
  c.image_token_id = top.integer("image_token_id");
  c.video_token_id = top.integer("video_token_id");
  c.vision_start_token_id = top.integer("vision_start_token_id");
  c.vision_end_token_id = top.integer("vision_end_token_id");
  for (auto [key, id] : {std::pair{"image_token_id", c.image_token_id},
                         {"video_token_id", c.video_token_id},
                         {"vision_start_token_id", c.vision_start_token_id},
                         {"vision_end_token_id", c.vision_end_token_id}}) {
    if (id < 0 || id >= c.text.vocab_size) top.wrong(key, "a token id below vocab_size");
  }
  return c;
}

Config config_of(const ModelFolder& model) {
  return parse_config(model.config(), model.config_path());
}

Config load_config(const std::string& folder) {
  return config_of(ModelFolder::open(folder, {.load_weights = false}));
}

}  // namespace kantu::models::qwen3vl
