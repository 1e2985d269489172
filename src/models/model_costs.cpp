// ModelCosts: the arithmetic of a Qwen3-VL forward pass, from the bound weights (so the
// bytes are those of the types that actually run) and the config.
#include "models/model_costs.h"

#include "core/dtype.h"

namespace kantu::models {
namespace {

double bytes(const kernels::WeightMatrix& w) {
  return static_cast<double>(dtype_bytes(w.dtype, w.rows * w.cols));
}
double macs(const kernels::WeightMatrix& w) { return static_cast<double>(w.rows * w.cols); }

}  // namespace

double ModelCosts::prefill_macs(int64_t n, int64_t cached) const {
  const double nd = static_cast<double>(n);
  const double pairs = nd * static_cast<double>(cached) + nd * (nd + 1) / 2;  // causal
  return text_macs_per_token * nd + lm_head_macs + 2 * pairs * text_attention_width;
}

double ModelCosts::image_macs(int64_t patches) const {
  const double p = static_cast<double>(patches);
  return vision_macs_per_patch * p + vision_macs_per_token * p / vision_merge_unit +
         2 * p * p * vision_attention_width;
}

ModelCosts costs_of(const qwen3vl::Config& config, const qwen3vl::Weights& weights) {
  ModelCosts c;
  const qwen3vl::TextWeights& t = weights.text;
  for (const qwen3vl::TextLayerWeights& l : t.layers) {
    for (const kernels::WeightMatrix* w :
         {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj, &l.down_proj}) {
      c.decode_weight_bytes += bytes(*w);
      c.text_macs_per_token += macs(*w);
    }
  }
  c.decode_weight_bytes += bytes(t.lm_head);
  c.lm_head_macs = macs(t.lm_head);
  c.text_attention_width = static_cast<double>(config.text.num_layers * config.text.num_heads *
                                               config.text.head_dim);
  if (!config.has_vision) return c;
  const qwen3vl::VisionWeights& v = weights.vision;
  c.vision_macs_per_patch = macs(v.patch_embed.w);
  for (const qwen3vl::VisionBlockWeights& b : v.blocks)
    c.vision_macs_per_patch += macs(b.qkv.w) + macs(b.proj.w) + macs(b.fc1.w) + macs(b.fc2.w);
  c.vision_macs_per_token = macs(v.merger.fc1.w) + macs(v.merger.fc2.w);
  for (const qwen3vl::MergerWeights& m : v.deepstack)
    c.vision_macs_per_token += macs(m.fc1.w) + macs(m.fc2.w);
  c.vision_attention_width = static_cast<double>(config.vision.depth * config.vision.hidden_size);
  c.vision_merge_unit = config.vision.merge_unit();
  return c;
}

}  // namespace kantu::models
