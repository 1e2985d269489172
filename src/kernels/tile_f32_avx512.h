// The AVX-512 float32 register tile, for the GEMM (gemm_f32_avx512.cpp, A packed) and
// attention (attention_avx512.cpp, A strided): MR x 32 outputs in 2·MR zmm accumulators; per
// k, two loads of B and MR broadcasts of A feed 2·MR FMAs. Include after the file's
// KANTU_AVX512_TARGET line (internal linkage).
#pragma once

#include <cstdint>

#include "kernels/simd_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr int kTileRowsF32 = 12;  // x rows per tile (2·12 accumulators + 2 B + 1 A of 32 zmm)
constexpr int kTileColsF32 = 32;  // two zmm

// Passed as lda: A is packed k-major, [kc][MR].
constexpr int64_t kPackedRows = 0;

// C[MR][n_valid] (row stride ldc) = base + A[MR][kc] · B[kc][32], A packed (lda ==
// kPackedRows) or rows lda apart, B rows ldb apart holding 32 readable floats; base as
// store_tile says.
template <int MR, bool kPacked>
void tile_f32(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc, float* c,
              int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b + k * ldb);
    const __m512 b1 = _mm512_loadu_ps(b + k * ldb + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(kPacked ? a[k * MR + i] : a[i * lda + k]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  store_tile<MR>(acc, c, ldc, n_valid, accumulate, bias);
}

// tile_f32 with the row count (1..kTileRowsF32) chosen at run time.
template <bool kPacked, int MR = kTileRowsF32>
void run_tile_f32(int mr, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc,
                  float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  if constexpr (MR > 1) {
    if (mr < MR)
      return run_tile_f32<kPacked, MR - 1>(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
  }
  tile_f32<MR, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
}

}  // namespace
}  // namespace kantu::kernels::KANTU_AVX512_NS
