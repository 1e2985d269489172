#include "models/qwen2vl/weights.h"

#include "core/error.h"
#include "models/qwen_prefixes.h"

namespace kantu::models::qwen2vl {
namespace {

std::string block_prefix(const QwenPrefixes& p, int64_t i) {
  return p.vision + "blocks." + std::to_string(i) + ".";
}

// A GGUF pair stores the fused attn.qkv as attn.q / attn.k / attn.v (gguf_names.h).
bool fused_qkv(const WeightStore& store, const QwenPrefixes& p) {
  return !store.has(block_prefix(p, 0) + "attn.q.weight");
}

std::vector<std::string> names_for(const Config& c, const QwenPrefixes& p, bool fused) {
  std::vector<std::string> names;
  if (c.has_vision) {
    const bool v25 = c.variant == Variant::kQwen25VL;
    names.push_back(p.vision + "patch_embed.proj.weight");
    for (int64_t i = 0; i < c.vision.depth; ++i) {
      const std::string pre = block_prefix(p, i);
      for (const char* part : {"norm1.weight", "norm2.weight", "attn.proj.weight", "attn.proj.bias"}) {
        names.push_back(pre + part);
      }
      const std::vector<std::string> projections =
          fused ? std::vector<std::string>{"qkv"} : std::vector<std::string>{"q", "k", "v"};
      for (const std::string& qkv : projections) {
        names.push_back(pre + "attn." + qkv + ".weight");
        names.push_back(pre + "attn." + qkv + ".bias");
      }
      const std::vector<const char*> mlp =
          v25 ? std::vector<const char*>{"gate_proj", "up_proj", "down_proj"}
              : std::vector<const char*>{"fc1", "fc2"};
      for (const char* m : mlp) {
        names.push_back(pre + "mlp." + m + ".weight");
        names.push_back(pre + "mlp." + m + ".bias");
      }
      if (!v25) {
        names.push_back(pre + "norm1.bias");
        names.push_back(pre + "norm2.bias");
      }
    }
    names.push_back(p.vision + "merger.ln_q.weight");
    if (!v25) names.push_back(p.vision + "merger.ln_q.bias");
    for (const char* part : {"mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"}) {
      names.push_back(p.vision + "merger." + part);
    }
  }
  for (std::string& n : blocks::decoder_tensor_names(c.text, {p.text})) names.push_back(std::move(n));
  return names;
}

blocks::QwenVisionWeights bind_vision(const blocks::Binder& b, const Config& c,
                                      const QwenPrefixes& p, bool fused) {
  const blocks::QwenVisionConfig& v = c.vision;
  const bool v25 = c.variant == Variant::kQwen25VL;
  const bool layer_norm = v.norm == blocks::NormKind::kLayer;
  const int64_t D = v.hidden_size, I = v.intermediate_size;
  blocks::QwenVisionWeights w;
  w.patch_embed.w = b.matrix(p.vision + "patch_embed.proj.weight",
                             {D, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
  for (int64_t i = 0; i < v.depth; ++i) {
    const std::string pre = block_prefix(p, i);
    blocks::EncoderBlockWeights blk;
    blk.norm1 = b.norm(pre + "norm1.", D, layer_norm);
    blk.norm2 = b.norm(pre + "norm2.", D, layer_norm);
    if (fused) {
      blk.qkv = b.linear(pre + "attn.qkv.", 3 * D, D, true);
    } else {
      blk.q = b.linear(pre + "attn.q.", D, D, true);
      blk.k = b.linear(pre + "attn.k.", D, D, true);
      blk.v = b.linear(pre + "attn.v.", D, D, true);
    }
    blk.proj = b.linear(pre + "attn.proj.", D, D, true);
    if (v25) {
      blk.mlp.gate = b.linear(pre + "mlp.gate_proj.", I, D, true);
      blk.mlp.up = b.linear(pre + "mlp.up_proj.", I, D, true);
      blk.mlp.down = b.linear(pre + "mlp.down_proj.", D, I, true);
    } else {
      blk.mlp.up = b.linear(pre + "mlp.fc1.", I, D, true);
      blk.mlp.down = b.linear(pre + "mlp.fc2.", D, I, true);
    }
    w.blocks.push_back(std::move(blk));
  }
  const blocks::MergerSpec m = v.merger_spec(false);
  w.merger.norm = b.norm(p.vision + "merger.ln_q.", D, layer_norm);
  w.merger.fc1 = b.linear(p.vision + "merger.mlp.0.", m.merged(), m.merged(), true);
  w.merger.fc2 = b.linear(p.vision + "merger.mlp.2.", m.out, m.merged(), true);
  return w;
}

}  // namespace

std::vector<std::string> required_tensor_names(const Config& config) {
  return names_for(config, {"model.", "visual."}, true);
}

Weights bind_weights(const WeightStore& store, const Config& config) {
  const QwenPrefixes p = detect_qwen_prefixes(store);
  const bool fused = !config.has_vision || fused_qkv(store, p);
  store.require(names_for(config, p, fused),
                config.variant == Variant::kQwen25VL ? "Qwen2.5-VL checkpoint" : "Qwen2-VL checkpoint");
  const blocks::Binder b(store);
  Weights w;
  if (config.has_vision) w.vision = bind_vision(b, config, p, fused);
  w.text = blocks::bind_decoder(b, config.text, {p.text});
  return w;
}

}  // namespace kantu::models::qwen2vl
