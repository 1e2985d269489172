// AVX2 RMSNorm and LayerNorm. The sums are accumulated in double (4 lanes × 2) so a
// 4096-wide row loses nothing to float rounding; the per-element work is float.
#include <cmath>

#include "kernels/avx2.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {
namespace {

double hsum_pd(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

double sum(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double s = hsum_pd(_mm256_add_pd(a0, a1));
  for (; i < n; ++i) s += x[i];
  return s;
}

// sum over i of (x[i] - mean)^2.
double sum_sq_dev(const float* x, int64_t n, double mean) {
  const __m256d m = _mm256_set1_pd(mean);
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m);
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
  }
  double s = hsum_pd(_mm256_add_pd(a0, a1));
  for (; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
  return s;
}

}  // namespace

void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum_sq_dev(xr, dim, 0.0) / dim + eps));
    const __m256 vinv = _mm256_set1_ps(inv);
    int64_t d = 0;
    for (; d + 8 <= dim; d += 8)
      _mm256_storeu_ps(yr + d, _mm256_mul_ps(_mm256_loadu_ps(weight + d),
                                             _mm256_mul_ps(_mm256_loadu_ps(xr + d), vinv)));
    for (; d < dim; ++d) yr[d] = weight[d] * (xr[d] * inv);
  }
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, int64_t dim,
                float eps, float* y) {
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    const double mean = sum(xr, dim) / dim;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum_sq_dev(xr, dim, mean) / dim + eps));
    const __m256 vmean = _mm256_set1_ps(static_cast<float>(mean)), vinv = _mm256_set1_ps(inv);
    int64_t d = 0;
    for (; d + 8 <= dim; d += 8) {
      const __m256 norm = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + d), vmean), vinv);
      const __m256 b = bias != nullptr ? _mm256_loadu_ps(bias + d) : _mm256_setzero_ps();
      _mm256_storeu_ps(yr + d, _mm256_fmadd_ps(norm, _mm256_loadu_ps(weight + d), b));
    }
    for (; d < dim; ++d)
      yr[d] = (xr[d] - static_cast<float>(mean)) * inv * weight[d] + (bias ? bias[d] : 0.f);
  }
}

}  // namespace kantu::kernels::avx2
