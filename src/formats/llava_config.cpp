#include "formats/llava_config.h"

#include "core/error.h"
#include "formats/clip_preprocessor_config.h"
#include "formats/json_fields.h"
#include "formats/model_family.h"

namespace kantu::llava {

namespace {

std::string activation(const JsonFields& f, const std::string& key, const std::string& fallback) {
  return f.has(key) ? f.string(key) : fallback;
}

TextConfig text_defaults(const std::string& model_type) {
  TextConfig t;
  t.model_type = model_type;
  if (model_type == "mistral") {
    t.intermediate_size = 14336;
    t.num_kv_heads = 8;
    t.max_position_embeddings = 4096 * 32;
    t.sliding_window = 4096;
  }
  return t;
}

void parse_rope(const JsonFields& t, TextConfig& c) {
  c.rope_theta = t.positive_number("rope_theta", c.rope_theta);
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    if (!t.has(key)) continue;
    const JsonFields r = t.object(key);
    const std::string type = r.has("rope_type") ? r.string("rope_type") : r.string("type", "default");
    if (type != "default") {
      fail(ErrorKind::kUnsupported, t.file(), ": ", r.path_of("rope_type"), " \"", type,
           "\" is not supported (kantu runs the default RoPE)");
    }
    c.rope_theta = r.positive_number("rope_theta", c.rope_theta);
  }
}

TextConfig parse_text(const JsonFields& t) {
  const std::string model_type = t.string("model_type", "llama");
  if (model_type != "llama" && model_type != "mistral") {
    fail(ErrorKind::kUnsupported, t.file(), ": ", t.path_of("model_type"), " \"", model_type,
         "\" is not a text model kantu runs under LLaVA (llama, mistral)");
  }
  TextConfig c = text_defaults(model_type);
  c.hidden_size = t.positive_int("hidden_size", c.hidden_size);
  c.intermediate_size = t.positive_int("intermediate_size", c.intermediate_size);
  c.num_layers = t.positive_int("num_hidden_layers", c.num_layers);
  c.num_heads = t.positive_int("num_attention_heads", c.num_heads);
  const bool mistral = model_type == "mistral";
  c.num_kv_heads = t.positive_int("num_key_value_heads", mistral ? c.num_kv_heads : c.num_heads);
  c.head_dim = t.positive_int("head_dim", c.hidden_size / c.num_heads);
  if (c.hidden_size % c.num_heads != 0 && !t.has("head_dim")) {
    t.wrong("num_attention_heads", "a divisor of hidden_size (or head_dim must be given)");
  }
  if (c.num_heads % c.num_kv_heads != 0) t.wrong("num_key_value_heads", "a divisor of num_attention_heads");
  if (c.head_dim % 2 != 0) t.wrong("head_dim", "even (rotary pairs)");
  c.vocab_size = t.positive_int("vocab_size", c.vocab_size);
  c.max_position_embeddings = t.positive_int("max_position_embeddings", c.max_position_embeddings);
  if (mistral) {
    // null: no sliding window (Mistral-7B v0.2 and later).
    c.sliding_window = t.json().contains("sliding_window") && t.json().at("sliding_window").is_null()
                           ? 0
                           : t.positive_int("sliding_window", c.sliding_window);
  }
  c.rms_norm_eps = static_cast<float>(t.positive_number("rms_norm_eps", c.rms_norm_eps));
  parse_rope(t, c);
  if (!mistral) {
    c.attention_bias = t.boolean("attention_bias", false);
    c.mlp_bias = t.boolean("mlp_bias", false);
  }
  c.tie_word_embeddings = t.boolean("tie_word_embeddings", false);
  c.hidden_act = activation(t, "hidden_act", c.hidden_act);
  const std::vector<int64_t> eos = t.int_or_int_list("eos_token_id");
  if (!eos.empty()) c.eos_token_ids = eos;
  return c;
}

VisionConfig parse_vision(const JsonFields& v) {
  const std::string model_type = v.string("model_type", "clip_vision_model");
  if (model_type != "clip_vision_model") {
    fail(ErrorKind::kUnsupported, v.file(), ": ", v.path_of("model_type"), " \"", model_type,
         "\" is not a vision tower kantu runs under LLaVA (clip_vision_model)");
  }
  VisionConfig c;
  c.hidden_size = v.positive_int("hidden_size", c.hidden_size);
  c.intermediate_size = v.positive_int("intermediate_size", c.intermediate_size);
  c.num_layers = v.positive_int("num_hidden_layers", c.num_layers);
  c.num_heads = v.positive_int("num_attention_heads", c.num_heads);
  c.num_channels = v.positive_int("num_channels", c.num_channels);
  c.image_size = v.positive_int("image_size", c.image_size);
  c.patch_size = v.positive_int("patch_size", c.patch_size);
  c.layer_norm_eps = static_cast<float>(v.positive_number("layer_norm_eps", c.layer_norm_eps));
  c.hidden_act = activation(v, "hidden_act", c.hidden_act);
  if (c.hidden_size % c.num_heads != 0) v.wrong("num_attention_heads", "a divisor of hidden_size");
  if (c.image_size % c.patch_size != 0) v.wrong("patch_size", "a divisor of image_size");
  if (c.num_channels != 3) v.wrong("num_channels", "3 (RGB)");
  return c;
}

// The vision config transformers builds when a LLaVA config has none: CLIP ViT-L/14-336.
VisionConfig default_vision() {
  VisionConfig c;
  c.hidden_size = 1024;
  c.intermediate_size = 4096;
  c.num_layers = 24;
  c.num_heads = 16;
  c.image_size = 336;
  c.patch_size = 14;
  return c;
}

std::vector<int64_t> feature_layers(const JsonFields& f) {
  if (!f.has("vision_feature_layer")) return {-2};
  const Json& v = f.json().at("vision_feature_layer");
  if (v.is_number_integer()) return {v.get<int64_t>()};
  const char* what = "an integer or a non-empty list of integers";
  if (!v.is_array() || v.empty()) f.wrong("vision_feature_layer", what);
  std::vector<int64_t> out;
  for (const Json& e : v) {
    if (!e.is_number_integer()) f.wrong("vision_feature_layer", what);
    out.push_back(e.get<int64_t>());
  }
  return out;
}

}  // namespace

std::vector<int64_t> Config::feature_indexes() const {
  std::vector<int64_t> out;
  const int64_t states = vision.num_layers + 1;  // embeddings + every layer
  for (int64_t layer : feature_layers) out.push_back(layer < 0 ? layer + states : layer);
  return out;
}

Config parse_config(const Json& doc, const std::string& file) {
  const JsonFields f(doc, file);
  Config c;
  // The variant as the registry identifies it: model_type, else the model class that
  // architectures names (LlavaConfig / LlavaNextConfig load a config without model_type).
  const ModelFamily family = model_family_from_config(doc, file);
  if (family != ModelFamily::kLlava && family != ModelFamily::kLlavaNext) {
    fail(ErrorKind::kUnsupported, file, ": ", model_family_name(family), " (",
         model_family_architecture(family), ") is not LLaVA");
  }
  c.next = family == ModelFamily::kLlavaNext;
  c.text = f.has("text_config") ? parse_text(f.object("text_config")) : TextConfig{};
  c.vision = f.has("vision_config") ? parse_vision(f.object("vision_config")) : default_vision();
  c.image_token_id = f.non_negative_int("image_token_index", c.image_token_id);
  if (f.has("image_token_id")) c.image_token_id = f.non_negative_int("image_token_id");
  c.projector_act = activation(f, "projector_hidden_act", c.projector_act);
  c.projector_bias = f.boolean("multimodal_projector_bias", true);
  c.feature_layers = feature_layers(f);
  for (int64_t index : c.feature_indexes()) {
    if (index < 0 || index > c.vision.num_layers) {
      f.wrong("vision_feature_layer", "a hidden-state index of the vision tower (-" +
                                          std::to_string(c.vision.num_layers + 1) + " .. " +
                                          std::to_string(c.vision.num_layers) + ")");
    }
  }
  const std::string strategy = f.string("vision_feature_select_strategy", "default");
  if (strategy != "default" && strategy != "full") f.wrong("vision_feature_select_strategy", "\"default\" or \"full\"");
  c.drop_cls = strategy == "default";
  if (c.next && !c.drop_cls) {
    // pack_image_features views each tile as a grid of patches, which the class token breaks.
    fail(ErrorKind::kUnsupported, file, ": LLaVA-NeXT with vision_feature_select_strategy \"full\" "
         "cannot pack its tiles (transformers cannot either)");
  }
  if (c.next) c.image_grid_pinpoints = parse_image_grid_pinpoints(f);
  // The top-level flag wins; text_config's is forwarded when the top level says false.
  c.text.tie_word_embeddings = f.boolean("tie_word_embeddings", false) || c.text.tie_word_embeddings;
  return c;
}

}  // namespace kantu::llava
