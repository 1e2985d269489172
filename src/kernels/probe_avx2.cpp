#include <immintrin.h>

#include "kernels/probe.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels {

float probe_fma_avx2(int64_t iters, float seed) {
  // 12 chains cover 2 FMA pipes x 4-cycle latency. The loops over the chains must unroll
  // fully (as in tile_kernel): at -O2 GCC otherwise keeps the array in memory, and a
  // store-to-load round trip per FMA measured a third of the real peak.
  constexpr int kChains = 12;
  __m256 acc[kChains];
#pragma GCC unroll 12
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, b);
  }
  __m256 sum = acc[0];
#pragma GCC unroll 12
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  return avx2::hsum(sum);
}

int32_t probe_int8_dot_avx2(int64_t iters, int32_t seed) {
  // Each step gets its own left operand: with a shared one the compiler computes the
  // product once and the probe measures adds. b is "changed" every round by an empty asm,
  // so nothing is hoisted out of the loop and no dependency chain is added between rounds.
  // The only loop-carried dependency is the 1-cycle add, so 6 chains keep the pipes full.
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a0 = _mm256_set1_epi8(1), a1 = _mm256_set1_epi8(2), a2 = _mm256_set1_epi8(3),
          a3 = _mm256_set1_epi8(4), a4 = _mm256_set1_epi8(5), a5 = _mm256_set1_epi8(6);
  __m256i c0 = _mm256_set1_epi32(seed), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  __m256i b = _mm256_set1_epi8(static_cast<char>(seed | 1));
  for (int64_t it = 0; it < iters; ++it) {
    c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(a0, b), ones));
    c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(a1, b), ones));
    c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_maddubs_epi16(a2, b), ones));
    c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_maddubs_epi16(a3, b), ones));
    c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(_mm256_maddubs_epi16(a4, b), ones));
    c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(_mm256_maddubs_epi16(a5, b), ones));
    __asm__ volatile("" : "+x"(b), "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
  }
  const __m256i s = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), c2),
                                     _mm256_add_epi32(_mm256_add_epi32(c3, c4), c5));
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), s);
  // The lanes wrap like the vector adds did; sum them the same way (signed overflow is UB).
  uint32_t total = 0;
  for (int32_t v : lanes) total += static_cast<uint32_t>(v);
  return static_cast<int32_t>(total);
}

float probe_sum_avx2(const float* data, int64_t n) {
  // Four streams at once, a quarter of the range each: one sequential stream per core is
  // limited by how far the prefetcher runs ahead and measured 25% below what a GEMV reading
  // four weight rows at a time gets.
  const int64_t quarter = n / 4 / 16 * 16;
  const float* p[4] = {data, data + quarter, data + 2 * quarter, data + 3 * quarter};
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  for (int64_t i = 0; i < quarter; i += 16) {
    acc[0] = _mm256_add_ps(acc[0], _mm256_add_ps(_mm256_loadu_ps(p[0] + i), _mm256_loadu_ps(p[0] + i + 8)));
    acc[1] = _mm256_add_ps(acc[1], _mm256_add_ps(_mm256_loadu_ps(p[1] + i), _mm256_loadu_ps(p[1] + i + 8)));
    acc[2] = _mm256_add_ps(acc[2], _mm256_add_ps(_mm256_loadu_ps(p[2] + i), _mm256_loadu_ps(p[2] + i + 8)));
    acc[3] = _mm256_add_ps(acc[3], _mm256_add_ps(_mm256_loadu_ps(p[3] + i), _mm256_loadu_ps(p[3] + i + 8)));
  }
  float s = avx2::hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (int64_t i = 4 * quarter; i < n; ++i) s += data[i];
  return s;
}

}  // namespace kantu::kernels
