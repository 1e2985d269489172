#include <immintrin.h>

#include "kernels/probe.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels {

float probe_fma_avx2(int64_t iters, float seed) {
  constexpr int kAcc = 12;  // 2 FMA pipes × 4-cycle latency needs >= 8 independent chains
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_ps(s, acc[i]);
  return avx2::hsum(s);
}

int32_t probe_int8_dot_avx2(int64_t iters, int32_t seed) {
  constexpr int kAcc = 12;
  __m256i acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_epi32(seed + i);
  const __m256i a = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  __m256i b = _mm256_set1_epi8(static_cast<char>(seed | 1));
  for (int64_t it = 0; it < iters; ++it) {
    for (int i = 0; i < kAcc; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
    // An empty asm that "changes" b: the products cannot be hoisted out of the loop, and
    // no dependency chain is added between rounds.
    __asm__ volatile("" : "+x"(b));
  }
  __m256i s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm256_add_epi32(s, acc[i]);
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  int32_t total = 0;
  for (int32_t v : lanes) total += v;
  return total;
}

float probe_sum_avx2(const float* data, int64_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int u = 0; u < 4; ++u) acc[u] = _mm256_add_ps(acc[u], _mm256_loadu_ps(data + i + 8 * u));
  float s = avx2::hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) s += data[i];
  return s;
}

}  // namespace kantu::kernels
