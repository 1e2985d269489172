// The AVX-512 matmul for BF16/F16/F32 weights (same contract as kernels::matmul).
// Same plan as the AVX2 version (matmul_gemv_avx2.cpp, matmul_gemm_avx2.cpp), with 16-wide
// registers and twice the register file:
//  - n <= 3 (decode): stream each weight row once for all x rows, 4 rows at a time, tails
//    with masked loads so no scalar loop runs.
//  - n >= 4: Goto-style blocking; weight panels are converted and packed by the AVX2
//    packer (16 rows, k-major), and a 12 x 32 register tile (24 zmm accumulators, two
//    panels per tile) runs over the x rows.
// Block-quantized weights: the decode GEMV is quant_gemv_avx512.h's (with or without VNNI,
// as the table chose); prefill goes to the AVX2 GEMM over dequantized slices.
// Products are float32 FMAs like the reference. CPUs with AVX-512 BF16 run the BF16 decode
// GEMV with its dot products instead (matmul_bf16dot_avx512.cpp: x split into two bf16
// parts, so nothing is lost to the f32 budget).
// GCC 12's AVX-512 intrinsics pass an `_mm512_undefined_*()` operand that its own
// (maybe-)uninitialized warnings flag once inlined here; they are not our variables.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/gemm_tasks.h"
#include "kernels/gemm_tile_avx2.h"
#include "kernels/matmul_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

// This file is compiled with the AVX2 flags and switches AVX-512 on only here, after every
// include: inline functions and templates from headers (std::vector, avx2::pack_panel ...)
// are emitted as weak symbols shared with other files, and the linker keeps one copy, so
// they must not contain AVX-512 instructions (an AVX2-only CPU would fault in them).
KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl")

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

using avx2::aligned_scratch;

constexpr __mmask16 kAll = 0xFFFF;
inline __mmask16 tail_mask(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);
}

// Loading up to 16 weights as float32 (m: which lanes are real; the rest read as 0).
struct Bf16x16 {
  using T = uint16_t;
  using Packer = avx2::Bf16Weights;
  static __m512 load(const T* p, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};
struct F16x16 {
  using T = uint16_t;
  using Packer = avx2::F16Weights;
  static __m512 load(const T* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct F32x16 {
  using T = float;
  using Packer = avx2::F32Weights;
  static __m512 load(const T* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

// y[i * ldy + j] = x_i · w_j (+ bias_j) for i < NX, j < R. next (or nullptr): the
// following R rows, prefetched meanwhile (see matmul_gemv_avx2.cpp).
template <class L, int NX, int R>
void dot_block(const float* x, int64_t cols, const typename L::T* w, const float* bias, float* y,
               int64_t ldy, const typename L::T* next) {
  constexpr int kStepBytes = R * 16 * sizeof(typename L::T);  // of the block per step
  const char* pf = reinterpret_cast<const char*>(next);
  __m512 acc[NX][R];
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < cols; c += 16) {
    if (pf != nullptr) {
      const char* at = pf + c * R * static_cast<int64_t>(sizeof(typename L::T));
      for (int b = 0; b < kStepBytes; b += 64) _mm_prefetch(at + b, _MM_HINT_T0);
    }
    const __mmask16 m = cols - c >= 16 ? kAll : tail_mask(cols - c);
    __m512 xv[NX];
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) xv[i] = _mm512_maskz_loadu_ps(m, x + i * cols + c);
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const __m512 wv = L::load(w + j * cols + c, m);
#pragma GCC unroll 4
      for (int i = 0; i < NX; ++i) acc[i][j] = _mm512_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j)
      y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]) + (bias != nullptr ? bias[j] : 0.f);
}

template <class L, int NX>
void gemv_range(const float* x, int64_t rows, int64_t cols, const typename L::T* w,
                const float* bias, float* y, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    dot_block<L, NX, 4>(x, cols, w + r * cols, bias ? bias + r : nullptr, y + r, rows,
                        r + 8 <= r1 ? w + (r + 4) * cols : nullptr);
  for (; r < r1; ++r)
    dot_block<L, NX, 1>(x, cols, w + r * cols, bias ? bias + r : nullptr, y + r, rows, nullptr);
}

template <class L>
void gemv_typed(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  const auto* wd = static_cast<const typename L::T*>(w.data);
  auto run = [&](int64_t r0, int64_t r1) {
    if (n == 1) return gemv_range<L, 1>(x, w.rows, w.cols, wd, bias, y, r0, r1);
    if (n == 2) return gemv_range<L, 2>(x, w.rows, w.cols, wd, bias, y, r0, r1);
    gemv_range<L, 3>(x, w.rows, w.cols, wd, bias, y, r0, r1);
  };
  const int64_t units = (w.rows + 3) / 4;  // 4-row units keep ranges on the fast path
  if (pool == nullptr || pool->size() == 1 || w.rows * w.cols < 64 * 1024) return run(0, w.rows);
  pool->parallel_ranges(
      units, [&](int64_t u0, int64_t u1) { run(u0 * 4, std::min(w.rows, u1 * 4)); }, 4);
}

constexpr int kMr = 12;                             // x rows per register tile
constexpr int kPanel = avx2::kPanelCols;            // 16 weight rows per packed panel
constexpr int64_t kKc = 256, kNc = 128, kMc = 192;  // as in the AVX2 GEMM (L1/L2 sizes)

// C[MR][n_valid] = base + A[MR][kc] · [P0 | P1] where P0, P1 are packed panels ([k][16]).
template <int MR>
void tile(const float* a, int64_t lda, const float* p0, const float* p1, int64_t kc, float* c,
          int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  __m512 acc[MR][2];
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(p0 + k * kPanel);
    const __m512 b1 = _mm512_loadu_ps(p1 + k * kPanel);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * lda + k]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  const __mmask16 m0 = n_valid >= 16 ? kAll : tail_mask(n_valid);
  const __mmask16 m1 = n_valid >= 32 ? kAll : n_valid > 16 ? tail_mask(n_valid - 16) : 0;
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
    for (int h = 0; h < 2; ++h) {
      const __mmask16 m = h == 0 ? m0 : m1;
      if (m == 0) continue;
      const __m512 base = accumulate        ? _mm512_maskz_loadu_ps(m, ci + 16 * h)
                          : bias != nullptr ? _mm512_maskz_loadu_ps(m, bias + 16 * h)
                                            : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(ci + 16 * h, m, _mm512_add_ps(base, acc[i][h]));
    }
  }
}

template <int MR = kMr>
void run_tile(int mr, const float* a, int64_t lda, const float* p0, const float* p1, int64_t kc,
              float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
  if constexpr (MR > 1) {
    if (mr < MR) return run_tile<MR - 1>(mr, a, lda, p0, p1, kc, c, ldc, n_valid, accumulate, bias);
  }
  tile<MR>(a, lda, p0, p1, kc, c, ldc, n_valid, accumulate, bias);
}

std::vector<float>& packed_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// One task: weight rows [r0, r1) x x rows [i0, i1).
template <class L>
void gemm_block(const float* x, const WeightMatrix& w, const float* bias, float* y, int64_t i0,
                int64_t i1, int64_t r0, int64_t r1) {
  const int64_t cols = w.cols, rows = w.rows;
  const auto* wd = static_cast<const typename L::T*>(w.data);
  // An even number of panels, so every tile has two (a missing one is packed as zeros).
  const int64_t n_panels = ((r1 - r0 + kPanel - 1) / kPanel + 1) / 2 * 2;
  float* base = aligned_scratch(packed_buffer(), static_cast<size_t>(n_panels * kPanel * kKc));
  for (int64_t k0 = 0; k0 < cols; k0 += kKc) {
    const int64_t kc = std::min(kKc, cols - k0);
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r = r0 + p * kPanel;
      const int valid = static_cast<int>(std::clamp<int64_t>(r1 - r, 0, kPanel));
      avx2::pack_panel<typename L::Packer>(wd + std::min(r, r1 - 1) * cols + k0, cols, valid, kc,
                                           base + p * kPanel * kc);
    }
    for (int64_t p = 0; p < n_panels; p += 2) {
      const int64_t r = r0 + p * kPanel;
      const int n_valid = static_cast<int>(std::min<int64_t>(2 * kPanel, r1 - r));
      const float* p0 = base + p * kPanel * kc;
      const float* b = bias != nullptr ? bias + r : nullptr;
      for (int64_t i = i0; i < i1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, i1 - i));
        run_tile(mr, x + i * cols + k0, cols, p0, p0 + kPanel * kc, kc, y + i * rows + r, rows,
                 n_valid, k0 != 0, b);
      }
    }
  }
}

template <class L>
void gemm_typed(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  run_gemm_tasks(n, w.rows, kMc, kMr, kNc, pool,
                 [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                   gemm_block<L>(x, w, bias, y, i0, i1, r0, r1);
                 });
}

template <class L>
void matmul_typed(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                  ThreadPool* pool) {
  if (n <= 3) return gemv_typed<L>(x, n, w, bias, y, pool);
  gemm_typed<L>(x, n, w, bias, y, pool);
}

}  // namespace

namespace {

using QuantGemv = void (*)(const float*, int64_t, const WeightMatrix&, const float*, float*,
                           ThreadPool*);

void matmul_with(QuantGemv quant_gemv, const float* x, int64_t n, const WeightMatrix& w,
                 const float* bias, float* y, ThreadPool* pool) {
  // cols == 0 has nothing to multiply: the AVX2 path writes the bias (or zeros).
  if (w.cols == 0) return avx2::matmul(x, n, w, bias, y, pool);
  switch (w.dtype) {
    case DType::kBF16:
      return matmul_typed<Bf16x16>(x, n, w, bias, y, pool);
    case DType::kF16:
      return matmul_typed<F16x16>(x, n, w, bias, y, pool);
    case DType::kF32:
      return matmul_typed<F32x16>(x, n, w, bias, y, pool);
    default:
      // Block-quantized: the decode GEMV here; prefill (the float GEMM over dequantized
      // slices) stays with AVX2.
      if (dtype_is_quantized(w.dtype) && n >= 1 && n <= avx2::kGemvMaxRows)
        return quant_gemv(x, n, w, bias, y, pool);
      return avx2::matmul(x, n, w, bias, y, pool);
  }
}

}  // namespace

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  matmul_with(gemv_quant, x, n, w, bias, y, pool);
}

void matmul_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                 ThreadPool* pool) {
  matmul_with(gemv_quant_vnni, x, n, w, bias, y, pool);
}

void matmul_vnni_bf16(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                      float* y, ThreadPool* pool) {
  if (w.dtype == DType::kBF16 && w.cols > 0 && n >= 1 && n <= 3)
    return gemv_bf16_dot(x, n, w, bias, y, pool);
  matmul_with(gemv_quant_vnni, x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
