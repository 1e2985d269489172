// The AVX-512 peak probes (probe.h): the instructions the AVX-512 kernels multiply with.
// Each round runs kChains independent accumulator chains (enough to cover the latency times
// the issue rate of every CPU so far: Zen 5 issues two 512-bit FMAs, vdpbf16ps or vpdpbusd a
// cycle at a latency of 4-6), fully unrolled so the chains stay in registers (see
// probe_avx2.cpp). Call each only where the CPU has its extension.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cstdint>

#include "kernels/avx512.h"
#include "kernels/probe.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")

// Nothing to emulate: the probes measure the hardware.
#if !defined(KANTU_AVX512_EMULATED)
namespace kantu::kernels::KANTU_AVX512_NS {
namespace {
constexpr int kChains = 16;
}  // namespace

float probe_fma(int64_t iters, float seed) {
  __m512 acc[kChains];
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  const __m512 m = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], m, b);
  }
  __m512 sum = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

float probe_bf16_dot(int64_t iters, float seed) {
  __m512 acc[kChains];
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + static_cast<float>(i));
  // 1.0 and 2^-20 in bf16: the sums grow slowly and stay finite.
  __m512i a = _mm512_set1_epi16(0x3f80), b = _mm512_set1_epi16(0x3580);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)a, (__m512bh)b);
    __asm__ volatile("" : "+v"(a), "+v"(b));  // nothing is hoisted out of the loop
  }
  __m512 sum = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

int32_t probe_int8_dot(int64_t iters, int32_t seed) {
  __m512i acc[kChains];
#pragma GCC unroll 16
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_epi32(seed + i);
  __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(static_cast<char>(seed | 1));
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], u, s);
    __asm__ volatile("" : "+v"(u), "+v"(s));
  }
  __m512i sum = acc[0];
#pragma GCC unroll 16
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_epi32(sum, acc[i]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, sum);
  uint32_t total = 0;  // wrapping, as the vector adds did (signed overflow is UB)
  for (int32_t v : lanes) total += static_cast<uint32_t>(v);
  return static_cast<int32_t>(total);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
#endif
