#include "models/blocks/encoder_block.h"

#include <cmath>

#include "kernels/ops.h"
#include "models/blocks/rope.h"

namespace kantu::models::blocks {

void EncoderScratch::allocate(const EncoderBlockSpec& spec, int64_t rows) {
  normed.assign(rows * spec.hidden, 0.0f);
  qkv.assign(rows * 3 * spec.hidden, 0.0f);
  attn.assign(rows * spec.hidden, 0.0f);
  tmp.assign(rows * spec.hidden, 0.0f);
  inner_a.assign(rows * spec.inner, 0.0f);
  if (spec.mlp.kind == MlpKind::kGated) inner_b.assign(rows * spec.inner, 0.0f);
}

void encoder_block_forward(const EncoderBlockSpec& spec, const EncoderBlockWeights& w, float* h,
                           int64_t n, const std::vector<Segment>& segments, const float* cos,
                           const float* sin, EncoderScratch& s, ThreadPool* pool) {
  const int64_t D = spec.hidden;
  const int64_t dh = spec.head_dim;
  apply_norm(spec.norm, w.norm1, h, n, D, spec.norm_eps, s.normed.data());

  // q, k, v as row-strided views: fused rows [q | k | v] of 3D, or three blocks of [n, D].
  float *q = nullptr, *k = nullptr, *v = nullptr;
  int64_t stride = 0;
  if (w.fused()) {
    linear(s.normed.data(), n, w.qkv, s.qkv.data(), pool);
    q = s.qkv.data(), k = q + D, v = q + 2 * D, stride = 3 * D;
  } else {
    q = s.qkv.data(), k = q + n * D, v = q + 2 * n * D, stride = D;
    linear(s.normed.data(), n, w.q, q, pool);
    linear(s.normed.data(), n, w.k, k, pool);
    linear(s.normed.data(), n, w.v, v, pool);
  }
  if (cos != nullptr) {
    apply_rope(q, n, spec.heads, dh, stride, cos, sin);
    apply_rope(k, n, spec.heads, dh, stride, cos, sin);
  }
  kernels::AttentionShape shape{};
  shape.n_heads = static_cast<int>(spec.heads);
  shape.n_kv_heads = static_cast<int>(spec.heads);
  shape.head_dim = static_cast<int>(dh);
  shape.q_stride = stride;
  shape.kv_stride = stride;
  shape.out_stride = D;
  shape.scale = 1.0f / std::sqrt(static_cast<float>(dh));
  shape.causal_offset = -1;
  for (const auto& [start, len] : segments) {
    if (len == 0) continue;
    shape.n_q = len;
    shape.n_kv = len;
    kernels::attention(q + start * stride, k + start * stride, v + start * stride,
                       s.attn.data() + start * D, shape, pool);
  }
  linear(s.attn.data(), n, w.proj, s.tmp.data(), pool);
  kernels::add(h, s.tmp.data(), h, n * D);

  apply_norm(spec.norm, w.norm2, h, n, D, spec.norm_eps, s.normed.data());
  mlp_forward(spec.mlp, w.mlp, s.normed.data(), n, s.inner_a.data(), s.inner_b.data(),
              s.tmp.data(), pool);
  kernels::add(h, s.tmp.data(), h, n * D);
}

}  // namespace kantu::models::blocks
