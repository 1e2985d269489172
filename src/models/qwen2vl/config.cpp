#include "models/qwen2vl/config.h"

#include <numeric>

#include "core/error.h"
#include "formats/json_fields.h"
#include "formats/model_folder.h"

namespace kantu::models::qwen2vl {
namespace {

const char* variant_name(Variant v) { return v == Variant::kQwen25VL ? "qwen2_5_vl" : "qwen2_vl"; }

blocks::Activation activation(const JsonFields& f, const std::string& key, const std::string& fallback) {
  const std::string name = f.string(key, fallback);
  const std::optional<blocks::Activation> act = blocks::activation_from_name(name);
  if (!act) {
    fail(ErrorKind::kUnsupported, f.file(), ": ", f.path_of(key), " = \"", name,
         "\" is not an activation kantu has (silu, gelu, gelu_pytorch_tanh, quick_gelu)");
  }
  return *act;
}

// rope_scaling (4.x) or rope_parameters (v5): the M-RoPE sections, chunked.
void parse_rope(const JsonFields& t, blocks::DecoderConfig& c) {
  std::optional<JsonFields> params = t.optional_object("rope_scaling");
  if (!params) params = t.optional_object("rope_parameters");
  c.rope.kind = blocks::RopeKind::kMropeChunked;
  c.rope.head_dim = c.head_dim;
  c.rope.theta = t.has("rope_theta") ? t.positive_number("rope_theta")
                 : params           ? params->positive_number("rope_theta", 1e6)
                                    : 1e6;
  if (!params || !params->has("mrope_section")) {
    fail(ErrorKind::kCorrupt, t.file(), ": ", t.path_of("rope_scaling"),
         ".mrope_section is missing (transformers' Qwen2-VL attention needs it)");
  }
  // "type" is the old spelling of "rope_type"; the official files say "mrope", which
  // transformers maps to "default".
  std::string type = params->string("rope_type", params->string("type", "default"));
  if (type == "mrope") type = "default";
  if (type != "default") {
    fail(ErrorKind::kUnsupported, t.file(), ": ", params->path_of("rope_type"), " = \"", type,
         "\": kantu implements only the default rotary frequencies");
  }
  const std::vector<int64_t> section = params->non_negative_int_list("mrope_section");
  if (section.size() != 3) {
    fail(ErrorKind::kUnsupported, t.file(), ": ", params->path_of("mrope_section"),
         " must hold 3 sections (T, H, W) to rotate each pair by one axis");
  }
  const int64_t sum = std::accumulate(section.begin(), section.end(), int64_t{0});
  if (sum != c.head_dim / 2) {
    fail(ErrorKind::kCorrupt, t.file(), ": ", params->path_of("mrope_section"), " sums to ", sum,
         " but head_dim / 2 = ", c.head_dim / 2, " (transformers splits the rotary dims by it)");
  }
  for (int i = 0; i < 3; ++i) c.rope.section[i] = section[i];
}

blocks::DecoderConfig parse_text(const JsonFields& t) {
  blocks::DecoderConfig c;
  c.vocab_size = t.positive_int("vocab_size", 152064);
  c.hidden_size = t.positive_int("hidden_size", 8192);
  c.intermediate_size = t.positive_int("intermediate_size", 29568);
  c.num_layers = t.positive_int("num_hidden_layers", 80);
  c.num_heads = t.positive_int("num_attention_heads", 64);
  c.num_kv_heads = t.positive_int("num_key_value_heads", c.num_heads);
  c.max_position_embeddings = t.positive_int("max_position_embeddings", 32768);
  const double eps = t.positive_number("rms_norm_eps", 1e-5);
  if (!(eps < 1)) t.wrong("rms_norm_eps", "in (0, 1)");
  c.norm_eps = static_cast<float>(eps);
  // The attention takes head_dim = hidden_size / num_heads (a head_dim key is not read).
  if (c.hidden_size % c.num_heads != 0) {
    t.wrong("hidden_size", cat("divisible by num_attention_heads (", c.num_heads, ")"));
  }
  c.head_dim = c.hidden_size / c.num_heads;
  if (c.head_dim % 2 != 0) t.wrong("num_attention_heads", "such that head_dim is even");
  if (c.num_heads % c.num_kv_heads != 0) {
    t.wrong("num_key_value_heads", cat("a divisor of num_attention_heads (", c.num_heads, ")"));
  }
  c.qkv_bias = true;  // Qwen2 attention: q/k/v with bias, o_proj without
  c.mlp = {blocks::MlpKind::kGated, activation(t, "hidden_act", "silu")};
  if (c.mlp.act != blocks::Activation::kSilu) {
    fail(ErrorKind::kUnsupported, t.file(), ": ", t.path_of("hidden_act"),
         ": kantu's gated MLP runs SiLU only");
  }
  if (t.boolean("use_sliding_window", false) && t.has("sliding_window") &&
      t.non_negative_int("max_window_layers", 80) < c.num_layers) {
    fail(ErrorKind::kUnsupported, t.file(), ": ", t.path_of("use_sliding_window"),
         " with max_window_layers below num_hidden_layers: kantu has no sliding-window attention");
  }
  parse_rope(t, c);
  return c;
}

blocks::QwenVisionConfig parse_vision(const JsonFields& v, Variant variant, double* tokens_per_second) {
  blocks::QwenVisionConfig c;
  const bool v25 = variant == Variant::kQwen25VL;
  c.depth = v.positive_int("depth", 32);
  c.num_heads = v.positive_int("num_heads", 16);
  c.in_channels = v.positive_int("in_channels", 3);  // "in_chans" in the files is not read
  c.patch_size = v.positive_int("patch_size", 14);
  c.spatial_merge_size = v.positive_int("spatial_merge_size", 2);
  c.temporal_patch_size = v.positive_int("temporal_patch_size", 2);
  c.norm_eps = 1e-6f;  // hard-coded in transformers
  if (v25) {
    c.hidden_size = v.positive_int("hidden_size", 3584);
    c.intermediate_size = v.positive_int("intermediate_size", 3420);
    c.out_hidden_size = v.positive_int("out_hidden_size", 3584);
    c.norm = blocks::NormKind::kRms;
    c.merger_norm = blocks::NormKind::kRms;
    c.mlp = {blocks::MlpKind::kGated, activation(v, "hidden_act", "silu")};
    if (c.mlp.act != blocks::Activation::kSilu) {
      fail(ErrorKind::kUnsupported, v.file(), ": ", v.path_of("hidden_act"),
           ": kantu's gated MLP runs SiLU only");
    }
    const int64_t window_size = v.positive_int("window_size", 112);
    c.window = window_size / c.spatial_merge_size / c.patch_size;
    if (c.window <= 0) {
      v.wrong("window_size", cat("at least spatial_merge_size * patch_size (",
                                 c.spatial_merge_size * c.patch_size, ")"));
    }
    c.fullatt_block_indexes = v.has("fullatt_block_indexes")
                                  ? v.non_negative_int_list("fullatt_block_indexes")
                                  : std::vector<int64_t>{7, 15, 23, 31};
    *tokens_per_second = v.positive_number("tokens_per_second", 4);
  } else {
    c.hidden_size = v.positive_int("embed_dim", 1280);
    c.intermediate_size =
        static_cast<int64_t>(static_cast<double>(c.hidden_size) * v.positive_number("mlp_ratio", 4));
    c.out_hidden_size = v.positive_int("hidden_size", 3584);
    c.norm = blocks::NormKind::kLayer;
    c.merger_norm = blocks::NormKind::kLayer;
    c.mlp = {blocks::MlpKind::kPlain, activation(v, "hidden_act", "quick_gelu")};
  }
  if (c.hidden_size % c.num_heads != 0 || (c.hidden_size / c.num_heads) % 4 != 0) {
    v.wrong("num_heads", cat("such that the vision head_dim is a multiple of 4 (width ",
                             c.hidden_size, "), as the 2-D rotary embedding needs"));
  }
  c.head_dim = c.hidden_size / c.num_heads;
  return c;
}

}  // namespace

Config parse_config(const Json& doc, const std::string& file, Variant variant) {
  const JsonFields top(doc, file);
  if (top.has("model_type") && top.string("model_type") != variant_name(variant)) {
    fail(ErrorKind::kUnsupported, file, ": model_type \"", top.string("model_type"),
         "\" is not ", variant_name(variant));
  }
  Config c;
  c.variant = variant;
  // A nested text_config wins; the official files keep the text keys at the top level.
  const std::optional<JsonFields> nested = top.optional_object("text_config");
  const JsonFields& text = nested ? *nested : top;
  c.text = parse_text(text);
  c.text.tie_word_embeddings = text.has("tie_word_embeddings")
                                   ? text.boolean("tie_word_embeddings")
                                   : top.boolean("tie_word_embeddings", false);
  c.has_vision = top.has("vision_config");
  if (c.has_vision) {
    c.vision = parse_vision(top.object("vision_config"), variant, &c.tokens_per_second);
    if (c.vision.out_hidden_size != c.text.hidden_size) {
      fail(ErrorKind::kCorrupt, file, ": the vision merger's output (",
           c.vision.out_hidden_size, ") differs from the text hidden_size (", c.text.hidden_size,
           ")");
    }
  }
  c.image_token_id = top.non_negative_int("image_token_id", c.image_token_id);
  c.video_token_id = top.non_negative_int("video_token_id", c.video_token_id);
  c.vision_start_token_id = top.non_negative_int("vision_start_token_id", c.vision_start_token_id);
  c.vision_end_token_id = top.non_negative_int("vision_end_token_id", c.vision_end_token_id);
  for (auto [key, id] : {std::pair{"image_token_id", c.image_token_id},
                         {"video_token_id", c.video_token_id},
                         {"vision_start_token_id", c.vision_start_token_id},
                         {"vision_end_token_id", c.vision_end_token_id}}) {
    if (id >= c.text.vocab_size) top.wrong(key, "a token id below vocab_size");
  }
  return c;
}

Config config_of(const ModelFolder& model) {
  const Variant variant =
      model.family() == ModelFamily::kQwen2VL ? Variant::kQwen2VL : Variant::kQwen25VL;
  Config c = parse_config(model.config(), model.config_path(), variant);
  c.has_vision = c.has_vision && model.has_vision();
  return c;
}

}  // namespace kantu::models::qwen2vl
