// Scalar reference kernels. Written for clarity and accuracy (double accumulation where
// sums are long), not speed; every SIMD kernel is tested against these.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/quant.h"
#include "kernels/ref.h"

namespace kantu::kernels::ref {
namespace {

// Runs fn(begin, end) over [0, n) on the pool, or inline without one.
template <typename Fn>
void for_ranges(ThreadPool* pool, int64_t n, Fn&& fn) {
  if (pool == nullptr || pool->size() == 1) {
    fn(int64_t{0}, n);
    return;
  }
  pool->parallel_ranges(n, [&](int64_t b, int64_t e) { fn(b, e); });
}

}  // namespace

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  const int64_t rows = w.rows, cols = w.cols;
  // x as the chosen precision sees it; then exact products (double sums).
  std::vector<float> xr(static_cast<size_t>(n * cols));
  round_activations(effective_activations(w), x, n, cols, xr.data());
  x = xr.data();
  for_ranges(pool, rows, [&](int64_t r0, int64_t r1) {
    std::vector<float> wrow(static_cast<size_t>(cols));
    for (int64_t r = r0; r < r1; ++r) {
      weight_row_to_f32(w, r, wrow.data());
      for (int64_t i = 0; i < n; ++i) {
        const float* xi = x + i * cols;
        double acc = 0.0;
        for (int64_t c = 0; c < cols; ++c) acc += static_cast<double>(xi[c]) * wrow[c];
        if (bias != nullptr) acc += bias[r];
        y[i * rows + r] = static_cast<float>(acc);
      }
    }
  });
}

void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    double sum_sq = 0.0;
    for (int64_t d = 0; d < dim; ++d) sum_sq += static_cast<double>(xi[d]) * xi[d];
    const float inv = static_cast<float>(1.0 / std::sqrt(sum_sq / dim + eps));
    for (int64_t d = 0; d < dim; ++d) y[i * dim + d] = weight[d] * (xi[d] * inv);
  }
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, int64_t dim,
                float eps, float* y) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * dim;
    double sum = 0.0;
    for (int64_t d = 0; d < dim; ++d) sum += xi[d];
    const double mean = sum / dim;
    double sum_sq = 0.0;  // two-pass variance: no cancellation for large means
    for (int64_t d = 0; d < dim; ++d) sum_sq += (xi[d] - mean) * (xi[d] - mean);
    const double inv = 1.0 / std::sqrt(sum_sq / dim + eps);  // biased variance, as torch
    for (int64_t d = 0; d < dim; ++d) {
      double v = (xi[d] - mean) * inv * weight[d];
      if (bias != nullptr) v += bias[d];
      y[i * dim + d] = static_cast<float>(v);
    }
  }
}

// 0.5x(1 + tanh(u)) written as x / (1 + e^-2u), the same value without the cancellation of
// 1 + tanh(u) for x << 0.
void gelu_tanh(float* x, int64_t n) {
  const double k = std::sqrt(2.0 / M_PI);
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(v / (1.0 + std::exp(-2.0 * k * (v + 0.044715 * v * v * v))));
  }
}

// 0.5x(1 + erf(x/√2)) written as 0.5x·erfc(-x/√2), again free of cancellation for x << 0.
void gelu_erf(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(0.5 * v * std::erfc(-v * M_SQRT1_2));
  }
}

// x·sigmoid(a·x) = x / (1 + e^(-a·x)); a = 1.702 is QuickGELU, a = 1 is SiLU.
void quick_gelu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(v / (1.0 + std::exp(-1.702 * v)));
  }
}

void silu(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    x[i] = static_cast<float>(v / (1.0 + std::exp(-v)));
  }
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void add(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

void rope_rotate_half(float* x, const float* cos, const float* sin, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  for (int64_t d = 0; d < half; ++d) {
    const float x0 = x[d], x1 = x[d + half];
    x[d] = x0 * cos[d] - x1 * sin[d];
    x[d + half] = x1 * cos[d] + x0 * sin[d];
  }
}

void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  const int64_t group = s.n_heads / s.n_kv_heads;
  const int64_t hd = s.head_dim;
  // One task per (head, query): scores for all visible keys, softmax, weighted sum of values.
  for_ranges(pool, s.n_heads * s.n_q, [&](int64_t t0, int64_t t1) {
    std::vector<float> scores(static_cast<size_t>(s.n_kv));
    std::vector<double> acc(static_cast<size_t>(hd));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t h = t / s.n_q, i = t % s.n_q;
      const int64_t kvh = h / group;
      const int64_t n_visible =
          s.causal_offset < 0 ? s.n_kv : std::min(s.n_kv, s.causal_offset + i + 1);
      const float* qi = q + i * s.q_stride + h * hd;
      float max_score = -INFINITY;
      for (int64_t j = 0; j < n_visible; ++j) {
        const float* kj = kv.key(j, s.kv_stride) + kvh * hd;
        double dot = 0.0;
        for (int64_t d = 0; d < hd; ++d) dot += static_cast<double>(qi[d]) * kj[d];
        scores[j] = static_cast<float>(dot) * s.scale;
        max_score = std::max(max_score, scores[j]);
      }
      double denom = 0.0;
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t j = 0; j < n_visible; ++j) {
        const float p = std::exp(scores[j] - max_score);
        denom += p;
        const float* vj = kv.value(j, s.kv_stride) + kvh * hd;
        for (int64_t d = 0; d < hd; ++d) acc[d] += static_cast<double>(p) * vj[d];
      }
      float* oi = out + i * s.out_stride + h * hd;
      for (int64_t d = 0; d < hd; ++d) oi[d] = static_cast<float>(acc[d] / denom);
    }
  });
}

}  // namespace kantu::kernels::ref
