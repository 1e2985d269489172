// Decode GEMV with block-quantized weights on AVX-512 BW, for CPUs without VNNI: each
// group of 4 byte products summed by maddubs (to int16 pairs) and madd (to int32); the
// kernels are quant_gemv_avx512.h's.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/quant_avx2.h"
#include "kernels/simd_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl")

// After the target line: its code (internal linkage) is compiled for these instructions.
#include "kernels/quant_gemv_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

// Σ over groups of 4 bytes of u·s, added to acc (u unsigned; no int16 saturation: every
// weight type here keeps |u| <= 128 and |s| <= 127, so a pair sums to at most 32512).
struct Dot {
  static __m512i dot(__m512i acc, __m512i u, __m512i s) {
    return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
  }
};

}  // namespace

void gemv_quant(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
         ThreadPool* pool) {
  quant_gemv<Dot>(x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
