// Binding a decoder's weights by their Hugging Face names (decoder.h, DecoderNames).
#include "core/error.h"
#include "models/blocks/decoder.h"

namespace kantu::models::blocks {
namespace {

std::string layer_prefix(const DecoderNames& names, int64_t i) {
  return names.prefix + "layers." + std::to_string(i) + ".";
}

}  // namespace

std::vector<std::string> decoder_tensor_names(const DecoderConfig& c, const DecoderNames& names) {
  std::vector<std::string> out = {names.prefix + "embed_tokens.weight", names.prefix + "norm.weight"};
  auto add = [&](const std::string& prefix, const char* part, bool with_bias) {
    out.push_back(prefix + part + ".weight");
    if (with_bias) out.push_back(prefix + part + ".bias");
  };
  const bool layer_norm_bias = c.norm == NormKind::kLayer;
  if (layer_norm_bias) out.push_back(names.prefix + "norm.bias");
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string pre = layer_prefix(names, i);
    add(pre, "input_layernorm", layer_norm_bias);
    add(pre, "post_attention_layernorm", layer_norm_bias);
    add(pre, "self_attn.q_proj", c.qkv_bias);
    add(pre, "self_attn.k_proj", c.qkv_bias);
    add(pre, "self_attn.v_proj", c.qkv_bias);
    add(pre, "self_attn.o_proj", c.o_bias);
    if (c.qk_norm) {
      add(pre, "self_attn.q_norm", false);
      add(pre, "self_attn.k_norm", false);
    }
    if (c.mlp.kind == MlpKind::kGated) add(pre, "mlp.gate_proj", c.mlp_bias);
    add(pre, "mlp.up_proj", c.mlp_bias);
    add(pre, "mlp.down_proj", c.mlp_bias);
  }
  if (!c.tie_word_embeddings) out.push_back(names.lm_head);
  return out;
}

DecoderWeights bind_decoder(const Binder& b, const DecoderConfig& c, const DecoderNames& names) {
  KANTU_CHECK(c.mlp.kind == MlpKind::kGated, "decoder MLPs are gated");
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t q_dim = c.num_heads * c.head_dim;
  const int64_t kv_dim = c.num_kv_heads * c.head_dim;
  const bool norm_bias = c.norm == NormKind::kLayer;
  DecoderWeights w;
  w.embed_tokens = b.matrix(names.prefix + "embed_tokens.weight", {c.vocab_size, H});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string pre = layer_prefix(names, i);
    DecoderLayerWeights l;
    l.input_norm = b.norm(pre + "input_layernorm.", H, norm_bias);
    l.post_attn_norm = b.norm(pre + "post_attention_layernorm.", H, norm_bias);
    if (c.qk_norm) {
      l.q_norm = b.norm(pre + "self_attn.q_norm.", c.head_dim, false);
      l.k_norm = b.norm(pre + "self_attn.k_norm.", c.head_dim, false);
    }
    l.q_proj = b.linear(pre + "self_attn.q_proj.", q_dim, H, c.qkv_bias);
    l.k_proj = b.linear(pre + "self_attn.k_proj.", kv_dim, H, c.qkv_bias);
    l.v_proj = b.linear(pre + "self_attn.v_proj.", kv_dim, H, c.qkv_bias);
    l.o_proj = b.linear(pre + "self_attn.o_proj.", H, q_dim, c.o_bias);
    l.mlp.gate = b.linear(pre + "mlp.gate_proj.", I, H, c.mlp_bias);
    l.mlp.up = b.linear(pre + "mlp.up_proj.", I, H, c.mlp_bias);
    l.mlp.down = b.linear(pre + "mlp.down_proj.", H, I, c.mlp_bias);
    w.layers.push_back(std::move(l));
  }
  w.final_norm = b.norm(names.prefix + "norm.", H, norm_bias);
  w.lm_head = c.tie_word_embeddings ? w.embed_tokens : b.matrix(names.lm_head, {c.vocab_size, H});
  return w;
}

void decoder_matrices(DecoderWeights& w, std::vector<NamedMatrix>& out) {
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const std::string pre = "text.layers." + std::to_string(i) + ".";
    DecoderLayerWeights& l = w.layers[i];
    out.push_back({pre + "q_proj", &l.q_proj.w});
    out.push_back({pre + "k_proj", &l.k_proj.w});
    out.push_back({pre + "v_proj", &l.v_proj.w});
    out.push_back({pre + "o_proj", &l.o_proj.w});
    out.push_back({pre + "gate_proj", &l.mlp.gate.w});
    out.push_back({pre + "up_proj", &l.mlp.up.w});
    out.push_back({pre + "down_proj", &l.mlp.down.w});
  }
  // lm_head is a separate WeightMatrix even when tied (a copy of embed_tokens' view), so
  // converting it leaves embed_tokens' row lookup on the stored type.
  out.push_back({"text.lm_head", &w.lm_head});
}

}  // namespace kantu::models::blocks
