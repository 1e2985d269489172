// The register-tiled micro-kernel shared by the AVX2 GEMM and attention, and the packing
// that feeds it. Include ONLY from *_avx2.cpp files.
#pragma once

#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {

constexpr int kTileRows = 6;   // rows of A (and C) per tile: 6 broadcasts per k
constexpr int kPanelCols = 16;  // columns of a packed panel (2 ymm)

// Packs rows [0, n_valid) of w (row stride ld), columns [0, kc), transposed into
// dst[kc][16] as float32 (dst 32-byte aligned); rows n_valid..15 become zeros.
template <class L>
void pack_panel(const typename L::T* w, int64_t ld, int n_valid, int64_t kc, float* dst) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    for (int half = 0; half < 2; ++half) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) {
        const int row = half * 8 + j;
        r[j] = row < n_valid ? L::load8(w + row * ld + k) : _mm256_setzero_ps();
      }
      transpose8(r);
      for (int t = 0; t < 8; ++t) _mm256_store_ps(dst + (k + t) * kPanelCols + half * 8, r[t]);
    }
  }
  for (; k < kc; ++k)
    for (int j = 0; j < kPanelCols; ++j)
      dst[k * kPanelCols + j] = j < n_valid ? L::load1(w + j * ld + k) : 0.f;
}

// Packs rows [0, mr) of a (row stride lda), columns [0, kc), k-major into dst[kc][mr]: the
// layout run_tile reads when lda == kPackedA. A tile's rows are usually a whole token apart
// (4 or 8 KB): read in place, six such rows share one L1 set and evict the weight panel.
// Writes exactly dst[0, kc * mr): the 8-wide stores overlap the next k, so the last
// columns go one by one.
inline void pack_rows(const float* a, int64_t lda, int mr, int64_t kc, float* dst) {
  int64_t k = 0;
  for (; (k + 7) * mr + 8 <= kc * mr && k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < mr ? _mm256_loadu_ps(a + i * lda + k) : _mm256_setzero_ps();
    transpose8(r);  // r[t] = column k + t of rows 0..7
    for (int t = 0; t < 8; ++t) _mm256_storeu_ps(dst + (k + t) * mr, r[t]);
  }
  for (; k < kc; ++k)
    for (int i = 0; i < mr; ++i) dst[k * mr + i] = a[i * lda + k];
}

// Passed as lda: A is packed by pack_rows (k-major, mr floats per k).
constexpr int64_t kPackedA = 0;

// C[MR][n_valid] (row stride ldc) = base + A[MR][kc] · B[kc][8*NB], where A has row stride
// lda (or is packed, kPacked), B row stride ldb (B rows hold 8*NB readable floats), and base
// is C itself when `accumulate`, else the row vector `bias` (may be null = zeros). MR*NB
// accumulators stay in registers for the whole k loop.
template <int MR, int NB, bool kPacked>
void tile_kernel(const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc, float* c,
                 int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  __m256 acc[MR][NB];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) bv[j] = _mm256_loadu_ps(b + k * ldb + 8 * j);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 av = _mm256_broadcast_ss(kPacked ? a + k * MR + i : a + i * lda + k);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[i][j] = _mm256_fmadd_ps(av, bv[j], acc[i][j]);
    }
  }
  // Spill once with constant indices only, so the accumulators stay in registers above.
  alignas(32) float out[MR][8 * NB];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) _mm256_store_ps(out[i] + 8 * j, acc[i][j]);
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    if (n_valid == 8 * NB) {
      for (int j = 0; j < NB; ++j) {
        __m256 base = accumulate          ? _mm256_loadu_ps(ci + 8 * j)
                      : bias != nullptr ? _mm256_loadu_ps(bias + 8 * j)
                                        : _mm256_setzero_ps();
        _mm256_storeu_ps(ci + 8 * j, _mm256_add_ps(base, _mm256_load_ps(out[i] + 8 * j)));
      }
    } else {
      for (int j = 0; j < n_valid; ++j) {
        const float base = accumulate ? ci[j] : (bias != nullptr ? bias[j] : 0.f);
        ci[j] = base + out[i][j];
      }
    }
  }
}

// tile_kernel with the row count chosen at run time (1..kTileRows), for one A layout.
template <int NB, bool kPacked>
void run_tile_rows(int mr, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc,
                   float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  switch (mr) {
    case 1:
      return tile_kernel<1, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
    case 2:
      return tile_kernel<2, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
    case 3:
      return tile_kernel<3, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
    case 4:
      return tile_kernel<4, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
    case 5:
      return tile_kernel<5, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
    default:
      return tile_kernel<6, NB, kPacked>(a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
  }
}

// tile_kernel with the row count chosen at run time; lda == kPackedA reads A as packed by
// pack_rows, any other lda as rows that far apart.
template <int NB>
void run_tile(int mr, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc,
              float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  if (lda == kPackedA)
    return run_tile_rows<NB, true>(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
  run_tile_rows<NB, false>(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, bias);
}

}  // namespace kantu::kernels::avx2
