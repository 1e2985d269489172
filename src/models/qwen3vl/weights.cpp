#include "models/qwen3vl/weights.h"

#include "core/error.h"
#include "models/qwen_prefixes.h"

namespace kantu::models::qwen3vl {
namespace {

using Prefixes = QwenPrefixes;

std::string vision_block(const Prefixes& p, int64_t i) {
  return p.vision + "blocks." + std::to_string(i) + ".";
}
std::string deepstack_prefix(const Prefixes& p, size_t k) {
  return p.vision + "deepstack_merger_list." + std::to_string(k) + ".";
}

std::vector<std::string> vision_names(const Config& config, const Prefixes& p) {
  std::vector<std::string> names;
  auto add = [&](const std::string& prefix, std::initializer_list<const char*> parts) {
    for (const char* part : parts) names.push_back(prefix + part);
  };
  add(p.vision, {"patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed.weight"});
  for (int64_t i = 0; i < config.vision.depth; ++i) {
    add(vision_block(p, i),
        {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "attn.qkv.weight",
         "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.linear_fc1.weight",
         "mlp.linear_fc1.bias", "mlp.linear_fc2.weight", "mlp.linear_fc2.bias"});
  }
  const std::initializer_list<const char*> merger_parts = {
      "norm.weight", "norm.bias", "linear_fc1.weight", "linear_fc1.bias", "linear_fc2.weight",
      "linear_fc2.bias"};
  add(p.vision + "merger.", merger_parts);
  for (size_t k = 0; k < config.vision.deepstack_visual_indexes.size(); ++k) {
    add(deepstack_prefix(p, k), merger_parts);
  }
  return names;
}

std::vector<std::string> names_for(const Config& config, const Prefixes& p) {
  std::vector<std::string> names;
  if (config.has_vision) names = vision_names(config, p);
  for (std::string& n : blocks::decoder_tensor_names(decoder_config(config), {p.text})) {
    names.push_back(std::move(n));
  }
  return names;
}

blocks::MergerWeights bind_merger(const blocks::Binder& b, const std::string& prefix,
                                  const blocks::MergerSpec& spec) {
  blocks::MergerWeights m;
  m.norm = b.norm(prefix + "norm.", spec.postshuffle_norm ? spec.merged() : spec.hidden, true);
  m.fc1 = b.linear(prefix + "linear_fc1.", spec.merged(), spec.merged(), true);
  m.fc2 = b.linear(prefix + "linear_fc2.", spec.out, spec.merged(), true);
  return m;
}

}  // namespace

blocks::DecoderConfig decoder_config(const Config& config) {
  const TextConfig& t = config.text;
  blocks::DecoderConfig d;
  d.hidden_size = t.hidden_size;
  d.intermediate_size = t.intermediate_size;
  d.num_layers = t.num_layers;
  d.num_heads = t.num_heads;
  d.num_kv_heads = t.num_kv_heads;
  d.head_dim = t.head_dim;
  d.vocab_size = t.vocab_size;
  d.max_position_embeddings = t.max_position_embeddings;
  d.norm_eps = t.rms_norm_eps;
  d.qk_norm = true;
  d.mlp = {blocks::MlpKind::kGated, t.hidden_act};
  d.rope = {blocks::RopeKind::kMropeInterleaved, t.rope_theta, t.head_dim, t.mrope_section};
  d.deepstack_levels = static_cast<int64_t>(config.vision.deepstack_visual_indexes.size());
  d.tie_word_embeddings = config.tie_word_embeddings;
  return d;
}

blocks::QwenVisionConfig vision_config(const Config& config) {
  const VisionConfig& v = config.vision;
  blocks::QwenVisionConfig c;
  c.hidden_size = v.hidden_size;
  c.intermediate_size = v.intermediate_size;
  c.depth = v.depth;
  c.num_heads = v.num_heads;
  c.head_dim = v.head_dim;
  c.in_channels = v.in_channels;
  c.patch_size = v.patch_size;
  c.temporal_patch_size = v.temporal_patch_size;
  c.spatial_merge_size = v.spatial_merge_size;
  c.out_hidden_size = v.out_hidden_size;
  c.norm = blocks::NormKind::kLayer;
  c.norm_eps = v.layer_norm_eps;
  c.mlp = {blocks::MlpKind::kPlain, v.hidden_act};
  c.patch_bias = true;
  c.pos_grid_side = v.pos_grid_side;
  c.merger_norm = blocks::NormKind::kLayer;
  c.deepstack_visual_indexes = v.deepstack_visual_indexes;
  return c;
}

std::vector<std::string> required_tensor_names(const Config& config) {
  // Names only; the prefixes follow the modern layout (bind_weights re-derives them).
  return names_for(config, {"model.language_model.", "model.visual."});
}

Weights bind_weights(const WeightStore& store, const Config& config) {
  const Prefixes p = detect_qwen_prefixes(store);
  store.require(names_for(config, p), "Qwen3-VL checkpoint");

  const blocks::Binder b(store);
  Weights w;
  if (config.has_vision) {
    const VisionConfig& v = config.vision;
    const blocks::QwenVisionConfig vc = vision_config(config);
    w.vision.patch_embed.w = b.matrix(
        p.vision + "patch_embed.proj.weight",
        {v.hidden_size, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
    w.vision.patch_embed.bias = b.vector(p.vision + "patch_embed.proj.bias", v.hidden_size);
    w.vision.pos_embed =
        b.floats(p.vision + "pos_embed.weight", {v.num_position_embeddings, v.hidden_size});
    for (int64_t i = 0; i < v.depth; ++i) {
      const std::string pre = vision_block(p, i);
      blocks::EncoderBlockWeights blk;
      blk.norm1 = b.norm(pre + "norm1.", v.hidden_size, true);
      blk.norm2 = b.norm(pre + "norm2.", v.hidden_size, true);
      blk.qkv = b.linear(pre + "attn.qkv.", 3 * v.hidden_size, v.hidden_size, true);
      blk.proj = b.linear(pre + "attn.proj.", v.hidden_size, v.hidden_size, true);
      blk.mlp.up = b.linear(pre + "mlp.linear_fc1.", v.intermediate_size, v.hidden_size, true);
      blk.mlp.down = b.linear(pre + "mlp.linear_fc2.", v.hidden_size, v.intermediate_size, true);
      w.vision.blocks.push_back(std::move(blk));
    }
    w.vision.merger = bind_merger(b, p.vision + "merger.", vc.merger_spec(false));
    for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
      w.vision.deepstack.push_back(bind_merger(b, deepstack_prefix(p, k), vc.merger_spec(true)));
    }
  }
  w.text = blocks::bind_decoder(b, decoder_config(config), {p.text});
  return w;
}

}  // namespace kantu::models::qwen3vl
