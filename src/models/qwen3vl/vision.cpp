#include "models/qwen3vl/vision.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "kernels/ops.h"
#include "models/qwen3vl/positions.h"

namespace kantu::models::qwen3vl {
namespace {

void dump(Dumps* dumps, const std::string& name, const float* data, int64_t rows, int64_t cols) {
  if (!dumps) return;
  DumpTensor& t = (*dumps)[name];
  t.shape = {rows, cols};
  t.data.assign(data, data + rows * cols);
}

void activate(Activation act, float* x, int64_t n) {
  switch (act) {
    case Activation::kGeluTanh:
      kernels::gelu_tanh(x, n);
      return;
    case Activation::kGeluErf:
      kernels::gelu_erf(x, n);
      return;
    case Activation::kSilu:
      break;
  }
  fail(ErrorKind::kUnsupported, "vision activation silu is not supported");
}

// Patch merger: norm (per patch before grouping, or over the grouped 4D row after),
// fc1, GELU (erf), fc2. hidden [N, D] -> out [N/4, out_hidden].
std::vector<float> merge(const VisionConfig& v, const MergerWeights& w, const float* hidden,
                         int64_t n_patches, bool postshuffle_norm, ThreadPool* pool) {
  const int64_t n = n_patches / v.merge_unit();
  const int64_t md = v.merged_dim();
  std::vector<float> normed(n_patches * v.hidden_size);
  if (postshuffle_norm) {
    kernels::layer_norm(hidden, w.norm.weight.data(), w.norm.bias.data(), n, md, v.layer_norm_eps,
                        normed.data());
  } else {
    kernels::layer_norm(hidden, w.norm.weight.data(), w.norm.bias.data(), n_patches,
                        v.hidden_size, v.layer_norm_eps, normed.data());
  }
  std::vector<float> mid(n * md);
  kernels::matmul(normed.data(), n, w.fc1.w, w.fc1.bias_ptr(), mid.data(), pool);
  kernels::gelu_erf(mid.data(), n * md);
  std::vector<float> out(n * v.out_hidden_size);
  kernels::matmul(mid.data(), n, w.fc2.w, w.fc2.bias_ptr(), out.data(), pool);
  return out;
}

}  // namespace

VisionOutput vision_forward(const Config& config, const VisionWeights& weights,
                            const std::vector<VisualInput>& images, ThreadPool* pool,
                            Dumps* dumps) {
  const VisionConfig& v = config.vision;
  const int64_t m = v.spatial_merge_size;
  const int64_t D = v.hidden_size;
  const int64_t dh = v.head_dim;
  if (images.empty()) fail(ErrorKind::kInvalidArgument, "encode_images: no images given");

  VisionOutput out;
  int64_t n_total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const GridTHW& g = images[i].grid;
    if (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0) {
      fail(ErrorKind::kInvalidArgument, "image ", i, ": grid (", g.t, ", ", g.h, ", ", g.w,
           ") must be positive with h and w divisible by the merge size ", m);
    }
    if (g.h > kMaxVisionPatches || g.w > kMaxVisionPatches || g.t > kMaxVisionPatches ||
        g.patches() > kMaxVisionPatches || n_total + g.patches() > kMaxVisionPatches) {
      fail(ErrorKind::kTooLarge, "image ", i, ": ", n_total, " + (", g.t, "x", g.h, "x", g.w,
           ") patches exceed the limit of ", kMaxVisionPatches, " per encode call");
    }
    if (!images[i].pixel_values) fail(ErrorKind::kInvalidArgument, "image ", i, ": no pixel values");
    n_total += g.patches();
    out.grids.push_back(g);
    out.tokens_per_image.push_back(g.patches() / v.merge_unit());
  }
  const int64_t N = n_total;
  out.n_tokens = N / v.merge_unit();
  out.hidden = v.out_hidden_size;

  // Patch embedding (Conv3d with kernel = stride = one patch, i.e. a linear layer).
  std::vector<float> h(N * D);
  {
    int64_t row = 0;
    for (const VisualInput& img : images) {
      kernels::matmul(img.pixel_values, img.grid.patches(), weights.patch_embed.w,
                      weights.patch_embed.bias_ptr(), h.data() + row * D, pool);
      row += img.grid.patches();
    }
  }
  dump(dumps, "vision.patch_embed_out", h.data(), N, D);

  {
    std::vector<float> pos = interpolate_pos_embed(v, weights.pos_embed, out.grids);
    dump(dumps, "vision.pos_embeds_interpolated", pos.data(), N, D);
    kernels::add(h.data(), pos.data(), h.data(), N * D);
  }

  // Rotary tables per patch: pair (d, d + dh/2) rotates by angle[d], d < dh/2.
  const int64_t half = dh / 2;
  std::vector<float> cos_t, sin_t;
  {
    std::vector<float> angles = vision_rope_angles(v, out.grids);
    dump(dumps, "vision.rot_pos_emb", angles.data(), N, half);
    cos_t.resize(angles.size());
    sin_t.resize(angles.size());
    for (size_t i = 0; i < angles.size(); ++i) {
      cos_t[i] = std::cos(angles[i]);
      sin_t[i] = std::sin(angles[i]);
    }
  }

  // Attention segments: one per image and temporal slice.
  std::vector<std::pair<int64_t, int64_t>> segments;  // (first patch, length)
  {
    int64_t row = 0;
    for (const GridTHW& g : out.grids) {
      for (int64_t t = 0; t < g.t; ++t) {
        segments.emplace_back(row, g.h * g.w);
        row += g.h * g.w;
      }
    }
  }

  std::vector<float> normed(N * D), qkv(N * 3 * D), attn(N * D), tmp(N * D);
  std::vector<float> mlp(N * v.intermediate_size);
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));
  out.deepstack.resize(v.deepstack_visual_indexes.size());

  for (int64_t b = 0; b < v.depth; ++b) {
    const VisionBlockWeights& w = weights.blocks[b];
    kernels::layer_norm(h.data(), w.norm1.weight.data(), w.norm1.bias.data(), N, D,
                        v.layer_norm_eps, normed.data());
    kernels::matmul(normed.data(), N, w.qkv.w, w.qkv.bias_ptr(), qkv.data(), pool);
    for (int64_t r = 0; r < N; ++r) {
      float* row = qkv.data() + r * 3 * D;
      const float* c = cos_t.data() + r * half;
      const float* s = sin_t.data() + r * half;
      for (int64_t head = 0; head < v.num_heads; ++head) {
        kernels::rope_rotate_half(row + head * dh, c, s, dh);          // q
        kernels::rope_rotate_half(row + D + head * dh, c, s, dh);      // k
      }
    }
    for (const auto& [start, len] : segments) {
      kernels::AttentionShape shape{};
      shape.n_q = len;
      shape.n_kv = len;
      shape.n_heads = static_cast<int>(v.num_heads);
      shape.n_kv_heads = static_cast<int>(v.num_heads);
      shape.head_dim = static_cast<int>(dh);
      shape.q_stride = 3 * D;
      shape.kv_stride = 3 * D;
      shape.out_stride = D;
      shape.scale = scale;
      shape.causal_offset = -1;
      const float* base = qkv.data() + start * 3 * D;
      kernels::attention(base, base + D, base + 2 * D, attn.data() + start * D, shape, pool);
    }
    kernels::matmul(attn.data(), N, w.proj.w, w.proj.bias_ptr(), tmp.data(), pool);
    kernels::add(h.data(), tmp.data(), h.data(), N * D);

    kernels::layer_norm(h.data(), w.norm2.weight.data(), w.norm2.bias.data(), N, D,
                        v.layer_norm_eps, normed.data());
    kernels::matmul(normed.data(), N, w.fc1.w, w.fc1.bias_ptr(), mlp.data(), pool);
    activate(v.hidden_act, mlp.data(), N * v.intermediate_size);
    kernels::matmul(mlp.data(), N, w.fc2.w, w.fc2.bias_ptr(), tmp.data(), pool);
    kernels::add(h.data(), tmp.data(), h.data(), N * D);
    dump(dumps, "vision.block_out." + std::to_string(b), h.data(), N, D);

    for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
      if (v.deepstack_visual_indexes[k] != b) continue;
      out.deepstack[k] = merge(v, weights.deepstack[k], h.data(), N, true, pool);
      dump(dumps, "vision.deepstack." + std::to_string(k), out.deepstack[k].data(), out.n_tokens,
           v.out_hidden_size);
    }
  }

  out.embeds = merge(v, weights.merger, h.data(), N, false, pool);
  dump(dumps, "vision.merger_out", out.embeds.data(), out.n_tokens, v.out_hidden_size);
  return out;
}

}  // namespace kantu::models::qwen3vl
