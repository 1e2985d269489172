#include "models/blocks/pos_embed.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::models::blocks {

std::vector<float> torch_linspace(float start, float end, int64_t steps) {
  std::vector<float> out(steps);
  if (steps == 1) {
    out[0] = start;
    return out;
  }
  // PyTorch's CPU kernel: scalar element i is start + step*i in the first half and
  // end - step*(steps-1-i) in the second. Its vectorized loop (8 floats on AVX2, two
  // vectors per iteration, so blocks of 16 with a scalar tail) instead fills each vector
  // as base + j*step from the vector's first element. The goldens were made that way;
  // it moves values by a few ulps, which the bilinear weights turn into ~1e-5 errors.
  constexpr int64_t kVec = 8;
  const float step = (end - start) / static_cast<float>(steps - 1);
  const int64_t halfway = steps / 2;
  auto scalar = [&](int64_t i) {
    return i < halfway ? start + step * static_cast<float>(i)
                       : end - step * static_cast<float>(steps - i - 1);
  };
  int64_t i = 0;
  for (; i + 2 * kVec <= steps; i += kVec) {
    const float base = scalar(i);
    for (int64_t j = 0; j < kVec; ++j) out[i + j] = base + static_cast<float>(j) * step;
    i += kVec;  // the pair's second vector
    const float base2 = scalar(i);
    for (int64_t j = 0; j < kVec; ++j) out[i + j] = base2 + static_cast<float>(j) * step;
  }
  for (; i < steps; ++i) out[i] = scalar(i);
  return out;
}

std::vector<float> interpolate_pos_embed(const std::vector<float>& table, int64_t side,
                                         int64_t dim, int64_t m,
                                         const std::vector<GridTHW>& grids) {
  KANTU_CHECK(static_cast<int64_t>(table.size()) == side * side * dim);
  int64_t total = 0;
  for (const GridTHW& g : grids) total += g.patches();
  std::vector<float> out(total * dim);
  float* o = out.data();
  std::vector<float> raster;
  for (const GridTHW& g : grids) {
    const std::vector<float> hs = torch_linspace(0.0f, static_cast<float>(side - 1), g.h);
    const std::vector<float> ws = torch_linspace(0.0f, static_cast<float>(side - 1), g.w);
    // Raster order [h, w, dim] first (weights and sums in float32, as the fp32 reference).
    raster.assign(g.h * g.w * dim, 0.0f);
    for (int64_t i = 0; i < g.h; ++i) {
      const int64_t hf = static_cast<int64_t>(hs[i]);
      const int64_t hc = std::min(hf + 1, side - 1);
      const float dh = hs[i] - static_cast<float>(hf);
      for (int64_t j = 0; j < g.w; ++j) {
        const int64_t wf = static_cast<int64_t>(ws[j]);
        const int64_t wc = std::min(wf + 1, side - 1);
        const float dw = ws[j] - static_cast<float>(wf);
        const float w00 = (1.0f - dh) * (1.0f - dw), w01 = (1.0f - dh) * dw;
        const float w10 = dh * (1.0f - dw), w11 = dh * dw;
        const float* t00 = &table[(hf * side + wf) * dim];
        const float* t01 = &table[(hf * side + wc) * dim];
        const float* t10 = &table[(hc * side + wf) * dim];
        const float* t11 = &table[(hc * side + wc) * dim];
        float* dst = &raster[(i * g.w + j) * dim];
        for (int64_t d = 0; d < dim; ++d) {
          const float p0 = w00 * t00[d], p1 = w01 * t01[d], p2 = w10 * t10[d], p3 = w11 * t11[d];
          dst[d] = ((p0 + p1) + p2) + p3;
        }
      }
    }
    for (int64_t ti = 0; ti < g.t; ++ti) {
      for (int64_t bh = 0; bh < g.h / m; ++bh) {
        for (int64_t bw = 0; bw < g.w / m; ++bw) {
          for (int64_t r = 0; r < m; ++r) {
            for (int64_t c = 0; c < m; ++c) {
              const float* src = &raster[((bh * m + r) * g.w + (bw * m + c)) * dim];
              std::copy(src, src + dim, o);
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
