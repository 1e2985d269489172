// Element-wise AVX2 kernels: activations, residual add, rotary embedding.
#include <cmath>

#include "kernels/avx2.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {

// 0.5x(1 + tanh(u)) == x·sigmoid(2u) = x / (1 + e^-2u): no cancellation for x < 0.
void gelu_tanh(float* x, int64_t n) {
  const __m256 k = _mm256_set1_ps(-2.f * 0.7978845608028654f);  // -2·sqrt(2/pi)
  const __m256 c = _mm256_set1_ps(0.044715f), one = _mm256_set1_ps(1.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 inner = _mm256_fmadd_ps(_mm256_mul_ps(c, v), _mm256_mul_ps(v, v), v);
    const __m256 e = exp_ps(_mm256_mul_ps(k, inner));
    _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
  }
  for (; i < n; ++i) {
    const float v = x[i];
    x[i] = v / (1.f + std::exp(-2.f * 0.7978845608028654f * (v + 0.044715f * v * v * v)));
  }
}

// x·Φ(x) with Φ(x) = erfc(-x/√2)/2, which keeps full relative accuracy for x << 0 (where
// 1 + erf cancels). Scalar erfcf (≤ 1 ulp): this runs only on the vision mergers' 4·hidden
// activations, a small cost next to their matmuls.
void gelu_erf(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * std::erfc(-x[i] * 0.70710678118654752f);
}

namespace {

// x / (1 + e^(-a·x)) in place.
void scaled_sigmoid_mul(float* x, int64_t n, float a) {
  const __m256 one = _mm256_set1_ps(1.f), neg_a = _mm256_set1_ps(-a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 e = exp_ps(_mm256_mul_ps(neg_a, v));
    _mm256_storeu_ps(x + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
  }
  for (; i < n; ++i) x[i] = x[i] / (1.f + std::exp(-a * x[i]));
}

}  // namespace

void quick_gelu(float* x, int64_t n) { scaled_sigmoid_mul(x, n, 1.702f); }
void silu(float* x, int64_t n) { scaled_sigmoid_mul(x, n, 1.f); }

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.f), zero = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp_ps(_mm256_sub_ps(zero, g));
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.f + std::exp(-gate[i])) * up[i];
}

void add(const float* a, const float* b, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

void rope_rotate_half(float* x, const float* cos, const float* sin, int64_t head_dim) {
  const int64_t half = head_dim / 2;
  int64_t d = 0;
  for (; d + 8 <= half; d += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + d), x1 = _mm256_loadu_ps(x + d + half);
    const __m256 c = _mm256_loadu_ps(cos + d), s = _mm256_loadu_ps(sin + d);
    _mm256_storeu_ps(x + d, _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, s)));
    _mm256_storeu_ps(x + d + half, _mm256_fmadd_ps(x1, c, _mm256_mul_ps(x0, s)));
  }
  for (; d < half; ++d) {
    const float x0 = x[d], x1 = x[d + half];
    x[d] = x0 * cos[d] - x1 * sin[d];
    x[d + half] = x1 * cos[d] + x0 * sin[d];
  }
}

}  // namespace kantu::kernels::avx2
