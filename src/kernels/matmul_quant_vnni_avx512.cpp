// Decode GEMV with block-quantized weights on AVX-512 VNNI: vpdpbusd multiplies 64 byte
// pairs and adds each group of 4 into an int32 lane in one instruction (no int16 step);
// the kernels are quant_gemv_avx512.h's. A file of its own so that only this code may
// contain VNNI instructions.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/quant_avx2.h"
#include "kernels/simd_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl,avx512vnni")

// After the target line: its code (internal linkage) is compiled for these instructions.
#include "kernels/quant_gemv_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

// Σ over groups of 4 bytes of u·s, added to acc (u unsigned, s signed).
struct Dot {
  static __m512i dot(__m512i acc, __m512i u, __m512i s) { return _mm512_dpbusd_epi32(acc, u, s); }
};

}  // namespace

void gemv_quant_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
         ThreadPool* pool) {
  quant_gemv<Dot>(x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
