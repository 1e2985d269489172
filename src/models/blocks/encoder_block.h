// One pre-norm transformer encoder block of a vision tower (ViT, CLIP, the Qwen-VL
// towers): h += proj(attention(norm1(h))); h += mlp(norm2(h)). Attention is bidirectional
// within each segment (a span of rows: an image, a temporal slice, or a window) and never
// across segments; q and k are optionally rotated (2-D vision RoPE).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/thread_pool.h"
#include "models/blocks/linear.h"
#include "models/blocks/mlp.h"
#include "models/blocks/norm.h"

namespace kantu::models::blocks {

struct EncoderBlockSpec {
  int64_t hidden = 0;
  int64_t heads = 0;
  int64_t head_dim = 0;  // hidden / heads
  int64_t inner = 0;     // MLP inner width
  NormKind norm = NormKind::kLayer;
  float norm_eps = 1e-6f;
  MlpSpec mlp{MlpKind::kPlain, Activation::kGeluTanh};
};

struct EncoderBlockWeights {
  Norm norm1, norm2;  // [hidden]
  // Either one fused projection [3 * hidden, hidden] (rows q, then k, then v, each
  // head-major) or three separate [hidden, hidden] ones (qkv.w.data == nullptr).
  Linear qkv;
  Linear q, k, v;
  Linear proj;        // [hidden, hidden]
  MlpWeights mlp;
  bool fused() const { return qkv.w.data != nullptr; }
};

// A span of rows that attend among themselves: (first row, row count).
using Segment = std::pair<int64_t, int64_t>;

// Scratch for n rows, allocated once per forward.
struct EncoderScratch {
  std::vector<float> normed, qkv, attn, tmp, inner_a, inner_b;
  void allocate(const EncoderBlockSpec& spec, int64_t rows);
};

// h [n, hidden] in place. cos/sin [n, head_dim / 2] rotate q and k (null: no rotation).
void encoder_block_forward(const EncoderBlockSpec& spec, const EncoderBlockWeights& w, float* h,
                           int64_t n, const std::vector<Segment>& segments, const float* cos,
                           const float* sin, EncoderScratch& s, ThreadPool* pool);

}  // namespace kantu::models::blocks
