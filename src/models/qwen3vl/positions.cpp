#include "models/qwen3vl/positions.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace kantu::models::qwen3vl {

PositionIds rope_index(std::span<const int32_t> ids, const std::vector<GridTHW>& grids,
                       int64_t start_pos, const Config& config) {
  const int64_t m = config.vision.spatial_merge_size;
  // Split videos into per-temporal-patch items (t = 1), as get_rope_index does.
  std::vector<GridTHW> items;
  for (const GridTHW& g : grids) {
    if (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0) {
      fail(ErrorKind::kInvalidArgument, "image grid (", g.t, ", ", g.h, ", ", g.w,
           ") must be positive with h and w divisible by the merge size ", m);
    }
    for (int64_t i = 0; i < g.t; ++i) items.push_back({1, g.h, g.w});
  }

  const int64_t n = static_cast<int64_t>(ids.size());
  PositionIds out;
  out.t.resize(n);
  out.h.resize(n);
  out.w.resize(n);
  int64_t pos = start_pos;
  size_t item = 0;
  auto is_pad = [&](int32_t id) {
    return id == config.image_token_id || id == config.video_token_id;
  };
  int64_t i = 0;
  while (i < n) {
    if (!is_pad(ids[i])) {
      out.t[i] = out.h[i] = out.w[i] = pos++;
      ++i;
      continue;
    }
    int64_t run = 0;
    while (i + run < n && is_pad(ids[i + run])) ++run;
    // A run may hold several consecutive items (pads of adjacent images with no text between).
    int64_t done = 0;
    while (done < run) {
      if (item >= items.size()) {
        fail(ErrorKind::kInvalidArgument, "the prompt has more image/video pad tokens than the ",
             items.size(), " visual items given (", grids.size(), " images/videos)");
      }
      const GridTHW& g = items[item++];
      const int64_t gh = g.h / m, gw = g.w / m;
      const int64_t tokens = gh * gw;
      if (done + tokens > run) {
        fail(ErrorKind::kInvalidArgument, "visual item ", item - 1, " needs ", tokens,
             " consecutive pad tokens but the prompt has a run of ", run - done,
             " at token ", i + done);
      }
      for (int64_t r = 0; r < gh; ++r) {
        for (int64_t c = 0; c < gw; ++c) {
          const int64_t k = i + done + r * gw + c;
          out.t[k] = pos;
          out.h[k] = pos + r;
          out.w[k] = pos + c;
          out.visual_rows.push_back(k);
        }
      }
      pos += std::max(gh, gw);
      done += tokens;
    }
    i += run;
  }
  if (item != items.size()) {
    fail(ErrorKind::kInvalidArgument, items.size(), " visual items were given but the prompt's ",
         "pad tokens cover only ", item);
  }
  out.next_pos = pos;
  return out;
}

std::vector<float> text_inv_freq(const TextConfig& text) {
  const int64_t half = text.head_dim / 2;
  std::vector<float> inv(half);
  const float base = static_cast<float>(text.rope_theta);
  for (int64_t k = 0; k < half; ++k) {
    // torch: 1.0 / (base ** (arange(0, dim, 2).float() / dim)) in float32.
    const float exponent = static_cast<float>(2 * k) / static_cast<float>(text.head_dim);
    inv[k] = 1.0f / std::pow(base, exponent);
  }
  return inv;
}

void mrope_cos_sin(const std::vector<float>& inv_freq, const std::array<int64_t, 3>& section,
                   int64_t t, int64_t h, int64_t w, float* cos, float* sin) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  const float pt = static_cast<float>(t), ph = static_cast<float>(h), pw = static_cast<float>(w);
  for (int64_t k = 0; k < half; ++k) {
    float p = pt;
    if (k % 3 == 1 && k < 3 * section[1]) p = ph;
    else if (k % 3 == 2 && k < 3 * section[2]) p = pw;
    const float angle = p * inv_freq[k];
    cos[k] = std::cos(angle);
    sin[k] = std::sin(angle);
  }
}

std::vector<float> vision_rope_angles(const VisionConfig& vision, const std::vector<GridTHW>& grids) {
  const int64_t dim = vision.head_dim / 2;  // the rotary module's dim
  const int64_t n_freq = dim / 2;
  std::vector<float> inv(n_freq);
  for (int64_t k = 0; k < n_freq; ++k) {
    const float exponent = static_cast<float>(2 * k) / static_cast<float>(dim);
    inv[k] = 1.0f / std::pow(10000.0f, exponent);
  }
  const int64_t m = vision.spatial_merge_size;
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

std::vector<float> interpolate_pos_embed(const VisionConfig& vision, const std::vector<float>& table,
                                         const std::vector<GridTHW>& grids) {
  const int64_t side = vision.pos_grid_side;
  const int64_t dim = vision.hidden_size;
  const int64_t m = vision.spatial_merge_size;
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

}  // namespace kantu::models::qwen3vl
