#include "models/blocks/rope.h"

#include <cmath>

#include "kernels/ops.h"

namespace kantu::models::blocks {

std::vector<float> rope_inv_freq(double theta, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  std::vector<float> inv(half);
  const float base = static_cast<float>(theta);
  for (int64_t k = 0; k < half; ++k) {
    // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
    const float exponent = static_cast<float>(2 * k) / static_cast<float>(head_dim);
    inv[k] = 1.0f / std::pow(base, exponent);
  }
  return inv;
}

void rope_cos_sin(const RopeSpec& spec, const std::vector<float>& inv_freq, int64_t t, int64_t h,
                  int64_t w, float* cos, float* sin) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  const float pt = static_cast<float>(t), ph = static_cast<float>(h), pw = static_cast<float>(w);
  const auto& s = spec.section;
  for (int64_t k = 0; k < half; ++k) {
    float p = pt;
    if (spec.kind == RopeKind::kMropeInterleaved) {
      if (k % 3 == 1 && k < 3 * s[1]) p = ph;
      else if (k % 3 == 2 && k < 3 * s[2]) p = pw;
    } else if (spec.kind == RopeKind::kMropeChunked) {
      if (k >= s[0] + s[1]) p = pw;
      else if (k >= s[0]) p = ph;
    }
    const float angle = p * inv_freq[k];
    cos[k] = std::cos(angle);
    sin[k] = std::sin(angle);
  }
}

void apply_rope(float* x, int64_t n, int64_t heads, int64_t head_dim, int64_t stride,
                const float* cos, const float* sin) {
  const int64_t half = head_dim / 2;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t h = 0; h < heads; ++h) {
      kernels::rope_rotate_half(x + r * stride + h * head_dim, cos + r * half, sin + r * half,
                                head_dim);
    }
  }
}

std::vector<float> vision_rope_angles(int64_t head_dim, int64_t m,
                                      const std::vector<GridTHW>& grids) {
  const int64_t dim = head_dim / 2;  // the rotary module's dim
  const int64_t n_freq = dim / 2;
  std::vector<float> inv(n_freq);
  for (int64_t k = 0; k < n_freq; ++k) {
    const float exponent = static_cast<float>(2 * k) / static_cast<float>(dim);
    inv[k] = 1.0f / std::pow(10000.0f, exponent);
  }
  int64_t total = 0;
  for (const GridTHW& g : grids) total += g.patches();
  std::vector<float> out(total * dim);
  float* o = out.data();
  for (const GridTHW& g : grids) {
    for (int64_t ti = 0; ti < g.t; ++ti) {
      for (int64_t bh = 0; bh < g.h / m; ++bh) {
        for (int64_t bw = 0; bw < g.w / m; ++bw) {
          for (int64_t r = 0; r < m; ++r) {
            for (int64_t c = 0; c < m; ++c) {
              const float row = static_cast<float>(bh * m + r);
              const float col = static_cast<float>(bw * m + c);
              for (int64_t k = 0; k < n_freq; ++k) {
                o[k] = row * inv[k];
                o[n_freq + k] = col * inv[k];
              }
              o += dim;
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace kantu::models::blocks
