// llama.cpp's LLaVA pair read as llava-hf's config.json and preprocessor_config.json:
// the text file (convert_hf_to_gguf.py, arch "llama") gives the Llama sizes; the mmproj
// (legacy convert_image_encoder_to_gguf.py, projector "mlp") the CLIP tower, the feature
// layers and, for NeXT, the anyres pinpoints.
#include "formats/gguf_llava_config.h"

#include <algorithm>

#include "core/error.h"
#include "formats/clip_preprocessor_config.h"

namespace kantu {

namespace {

int64_t token_id_or(const GgufFile& f, std::string_view token, int64_t fallback) {
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == token) return static_cast<int64_t>(i);
  }
  return fallback;
}

// clip.vision.image_grid_pinpoints: flattened (height, width) pairs.
Json pinpoints(const GgufFile& mm) {
  const std::vector<int64_t> flat = mm.integers("clip.vision.image_grid_pinpoints");
  if (flat.empty() || flat.size() % 2 != 0 ||
      std::any_of(flat.begin(), flat.end(), [](int64_t v) { return v <= 0; })) {
    fail(ErrorKind::kCorrupt, mm.path(), ": clip.vision.image_grid_pinpoints must be positive (height, width) pairs");
  }
  Json out = Json::array();
  for (size_t i = 0; i < flat.size(); i += 2) out.push_back({flat[i], flat[i + 1]});
  return out;
}

Json vision_config(const GgufFile& mm) {
  Json v = Json::object();
  v["model_type"] = "clip_vision_model";
  v["hidden_size"] = mm.integer("clip.vision.embedding_length");
  v["intermediate_size"] = mm.integer("clip.vision.feed_forward_length");
  // The converter keeps the blocks up to the deepest feature layer only.
  v["num_hidden_layers"] = mm.integer("clip.vision.block_count");
  v["num_attention_heads"] = mm.integer("clip.vision.attention.head_count");
  v["image_size"] = mm.integer("clip.vision.image_size");
  v["patch_size"] = mm.integer("clip.vision.patch_size");
  v["layer_norm_eps"] = mm.number("clip.vision.attention.layer_norm_epsilon");
  const TensorView& patch = mm.tensor("v.patch_embd.weight");
  if (patch.shape.size() != 4) {
    fail(ErrorKind::kCorrupt, mm.path(), ": v.patch_embd.weight has shape ", shape_string(patch.shape),
         ", expected [hidden, channels, patch, patch]");
  }
  v["num_channels"] = patch.shape[1];
  // clip.use_gelu is written for hidden_act "gelu"; CLIP's own is quick_gelu.
  const bool gelu = mm.has("clip.use_gelu") && mm.boolean("clip.use_gelu");
  const bool silu = mm.has("clip.use_silu") && mm.boolean("clip.use_silu");
  v["hidden_act"] = gelu ? "gelu" : silu ? "silu" : "quick_gelu";
  return v;
}

// The hidden states the projector reads: clip.vision.feature_layer (indexes into
// [embeddings, block 1, ...]); without it llama.cpp runs all but the last block it has.
Json feature_layers(const GgufFile& mm) {
  if (!mm.has("clip.vision.feature_layer")) return mm.integer("clip.vision.block_count") - 1;
  const std::vector<int64_t> layers = mm.integers("clip.vision.feature_layer");
  if (layers.empty()) fail(ErrorKind::kCorrupt, mm.path(), ": clip.vision.feature_layer is empty");
  if (layers.size() == 1) return layers[0];
  return layers;
}

}  // namespace

ModelFamily gguf_llava_family(const GgufFile& mmproj) {
  return mmproj.has("clip.vision.image_grid_pinpoints") ? ModelFamily::kLlavaNext : ModelFamily::kLlava;
}

Json gguf_llava_config(const GgufFile& text, const GgufFile* mm, ModelFamily family) {
  const std::string a = "llama.";
  if (text.has(a + "rope.scaling.type") && text.string(a + "rope.scaling.type") != "none") {
    fail(ErrorKind::kUnsupported, text.path(), ": llama.rope.scaling.type \"", text.string(a + "rope.scaling.type"),
         "\" is not supported (kantu runs the default RoPE)");
  }
  Json t = gguf_text_keys(text, "llama");
  t["model_type"] = "llama";
  if (text.has(a + "rope.dimension_count")) t["head_dim"] = text.integer(a + "rope.dimension_count");
  t["tie_word_embeddings"] = !text.has_tensor("output.weight");
  Json config = {{"model_type", model_family_name(family)},
                 {"architectures", Json::array({model_family_architecture(family)})},
                 {"text_config", t},
                 {"tie_word_embeddings", !text.has_tensor("output.weight")}};
  const int64_t image = token_id_or(text, "<image>", -1);
  if (!mm && image < 0) {
    // Nothing says LLaVA: no projector, and no place in the vocabulary for image features.
    fail(ErrorKind::kUnsupported, text.path(), " is a text-only Llama model (general.architecture \"llama\", ",
         "no <image> token in its vocabulary) and its vision projector (mmproj) is missing: kantu runs ",
         "vision-language models. For LLaVA, pass the text model converted from a llava-hf checkpoint ",
         "with -m and its mmproj file with --mmproj FILE");
  }
  if (!mm) {
    config["image_token_index"] = image;
    return config;
  }
  if (image < 0) {
    fail(ErrorKind::kUnsupported, text.path(), ": the vocabulary has no <image> token; kantu runs LLaVA ",
         "GGUF files converted from llava-hf checkpoints, whose vocabulary has it");
  }
  config["image_token_index"] = image;
  config["projector_hidden_act"] = "gelu";
  config["vision_feature_select_strategy"] = "default";  // llama.cpp always drops the class token
  config["vision_feature_layer"] = feature_layers(*mm);
  config["vision_config"] = vision_config(*mm);
  if (family == ModelFamily::kLlavaNext) config["image_grid_pinpoints"] = pinpoints(*mm);
  return config;
}

Json gguf_llava_preprocessor(const GgufFile& mm, ModelFamily family) {
  const bool next = family == ModelFamily::kLlavaNext;
  const int64_t size = mm.integer("clip.vision.image_size");
  Json p = {{"image_processor_type", next ? "LlavaNextImageProcessor" : "CLIPImageProcessor"},
            {"size", {{"shortest_edge", size}}},
            {"crop_size", {{"height", size}, {"width", size}}}};
  for (const auto& [key, field] : {std::pair{"clip.vision.image_mean", "image_mean"},
                                   std::pair{"clip.vision.image_std", "image_std"}}) {
    if (!mm.has(key)) continue;
    const std::vector<double> values = mm.numbers(key);
    if (values.size() != 3) fail(ErrorKind::kCorrupt, mm.path(), ": ", key, " must hold 3 numbers");
    p[field] = values;
  }
  if (next) p["image_grid_pinpoints"] = pinpoints(mm);
  parse_clip_preprocessor_config(p, mm.path(), next);  // checks the values
  return p;
}

}  // namespace kantu
