#include "models/llava/weights.h"

#include <algorithm>

#include "core/error.h"
#include "models/blocks/binder.h"

namespace kantu::models::llava {

namespace {

struct Layout {
  blocks::DecoderNames text;
  std::string vision, projector, newline;
};

Layout layout_of(const WeightStore& store) {
  if (store.has("language_model.model.embed_tokens.weight")) {
    return {{"language_model.model.", "language_model.lm_head.weight"}, "vision_tower.vision_model.",
            "multi_modal_projector.", "image_newline"};
  }
  if (store.has("model.language_model.embed_tokens.weight")) {
    return {{"model.language_model.", "lm_head.weight"}, "model.vision_tower.vision_model.",
            "model.multi_modal_projector.", "model.image_newline"};
  }
  fail(ErrorKind::kCorrupt, "LLaVA weights: neither language_model.model.embed_tokens.weight nor "
       "model.language_model.embed_tokens.weight is in the checkpoint");
}

}  // namespace

blocks::DecoderConfig decoder_config(const Config& c) {
  const TextConfig& t = c.text;
  blocks::DecoderConfig d;
  d.hidden_size = t.hidden_size;
  d.intermediate_size = t.intermediate_size;
  d.num_layers = t.num_layers;
  d.num_heads = t.num_heads;
  d.num_kv_heads = t.num_kv_heads;
  d.head_dim = t.head_dim;
  d.vocab_size = t.vocab_size;
  // Within its sliding window Mistral's attention is the full causal attention; longer
  // sequences are refused rather than run without the window.
  d.max_position_embeddings = t.sliding_window > 0 ? std::min(t.max_position_embeddings, t.sliding_window)
                                                   : t.max_position_embeddings;
  d.norm = blocks::NormKind::kRms;
  d.norm_eps = t.rms_norm_eps;
  d.qkv_bias = t.attention_bias;
  d.o_bias = t.attention_bias;
  d.mlp_bias = t.mlp_bias;
  d.mlp = {blocks::MlpKind::kGated, activation_of(t.hidden_act, "text_config.hidden_act")};
  d.rope = {blocks::RopeKind::kPlain, t.rope_theta, t.head_dim, {}};
  d.tie_word_embeddings = t.tie_word_embeddings;
  return d;
}

Weights bind_weights(const WeightStore& store, const Config& c) {
  const Layout names = layout_of(store);
  const blocks::Binder b(store);
  Weights w;
  const blocks::DecoderConfig d = decoder_config(c);
  if (d.mlp.act != blocks::Activation::kSilu) {
    fail(ErrorKind::kUnsupported, "LLaVA text model: hidden_act ", blocks::activation_name(d.mlp.act),
         " in a gated MLP is not supported (silu)");
  }
  w.text = blocks::bind_decoder(b, d, names.text);
  if (!c.has_vision) return w;
  std::vector<int64_t> indexes = c.feature_indexes();
  const int64_t layers_needed = *std::max_element(indexes.begin(), indexes.end());
  w.vision.clip = blocks::bind_clip_vision(b, clip_config(c.vision), names.vision, layers_needed);
  const int64_t H = c.text.hidden_size;
  w.vision.projector.up = b.linear(names.projector + "linear_1.", H, c.projector_in(), c.projector_bias);
  w.vision.projector.down = b.linear(names.projector + "linear_2.", H, H, c.projector_bias);
  if (c.next) w.vision.image_newline = b.vector(names.newline, H);
  return w;
}

}  // namespace kantu::models::llava
