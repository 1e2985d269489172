// Rotary position embeddings, every variant as one typed choice. All apply NeoX style
// (rotate-half): pair (d, d + head_dim/2) turns by angle[d], angle[k] = pos · inv_freq[k].
// What differs is which position axis frequency k takes:
//   kPlain             one position per token (Llama, Mistral; Qwen text without images)
//   kMropeInterleaved  Qwen3-VL: H for k % 3 == 1 and k < 3·section[1], W for k % 3 == 2
//                      and k < 3·section[2], T otherwise (the slices clip at head_dim/2)
//   kMropeChunked      Qwen2-VL / Qwen2.5-VL: k < s0 takes T, then s1 frequencies H,
//                      then s2 frequencies W (s0 + s1 + s2 = head_dim/2)
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/model.h"

namespace kantu::models::blocks {

enum class RopeKind { kPlain, kMropeInterleaved, kMropeChunked };

struct RopeSpec {
  RopeKind kind = RopeKind::kPlain;
  double theta = 10000.0;
  int64_t head_dim = 0;
  std::array<int64_t, 3> section{};  // (T, H, W) frequency counts; M-RoPE only
};

// inv_freq[k] = 1 / theta^(2k / head_dim) in float32 (as torch), k < head_dim / 2.
std::vector<float> rope_inv_freq(double theta, int64_t head_dim);

// cos/sin [head_dim / 2] of one token at positions (t, h, w) (kPlain reads t only).
void rope_cos_sin(const RopeSpec& spec, const std::vector<float>& inv_freq, int64_t t, int64_t h,
                  int64_t w, float* cos, float* sin);

// Rotates `heads` head vectors in each of n rows (row stride `stride` floats) in place;
// row r uses cos/sin[r * half .. ).
void apply_rope(float* x, int64_t n, int64_t heads, int64_t head_dim, int64_t stride,
                const float* cos, const float* sin);

// Vision 2-D rope angles [n_patches, head_dim / 2] in merge-window order (the processor's
// patch order): per patch (row · inv[0..d/4), col · inv[0..d/4)) with
// inv[k] = 10000^(-2k / (d/2)), d = head_dim.
std::vector<float> vision_rope_angles(int64_t head_dim, int64_t merge,
                                      const std::vector<GridTHW>& grids);

}  // namespace kantu::models::blocks
