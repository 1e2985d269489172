// Decode GEMV (n <= 3 x rows) for BF16 weights with AVX-512 BF16's dot products: one
// vdpbf16ps multiplies 32 bf16 pairs and adds each pair into a float32 lane, so a weight
// register is used as loaded, with no widening to float32 (two instructions per 16 weights
// in the float path).
//
// Fidelity: vdpbf16ps takes bf16 on both sides, and rounding x to bf16 would keep 8 of its
// 24 significant bits. So x is split once per call into hi = bf16(x) and lo = bf16(x − hi)
// and each weight meets both: hi + lo carries 16 bits (|x − hi − lo| <= 2^-17·|x|), bf16
// products are exact in float32 and the lane sums round as float32 FMAs do, which keeps
// the f32 conformance budget. It costs a second dot product per register; decode is
// bound by reading the weights, not by these instructions. With bf16 activations
// (`split` false) x is only rounded: one dot product per register.
// A file of its own so that only this code may contain AVX-512 BF16 instructions.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/simd_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl,avx512bf16")

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr int64_t kChunk = 32;  // bf16 values per register

inline __mmask32 chunk_mask(int64_t left) {
  return left >= kChunk ? ~__mmask32{0} : static_cast<__mmask32>((1u << left) - 1u);
}
inline __m512bh as_bh(__m512i v) { return (__m512bh)v; }
inline __m512i as_si(__m512bh v) { return (__m512i)v; }

// The 32 bf16 of v (16 in each 256-bit half) back to float32, low and high 16.
inline __m512 bf16_low_to_f32(__m512i v) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(v)), 16));
}
inline __m512 bf16_high_to_f32(__m512i v) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(v, 1)), 16));
}

std::vector<float>& split_scratch() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// x rows as hi/lo bf16 registers: row i, chunk c at out[2 * (i * chunks + c)] (hi) and the
// next register (lo, zeros unless `split`); the tail of the last chunk is zeros.
const __m512i* split_x(const float* x, int64_t n, int64_t cols, bool split) {
  const int64_t chunks = (cols + kChunk - 1) / kChunk;
  float* base = avx2::aligned_scratch(split_scratch(), static_cast<size_t>(2 * n * chunks * 16 + 16));
  // aligned_scratch aligns to 32 bytes; the registers are stored unaligned anyway.
  auto* out = reinterpret_cast<__m512i*>(base);
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * cols;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t k = c * kChunk, left = cols - k;
      const __m512 x0 = _mm512_maskz_loadu_ps(static_cast<__mmask16>(chunk_mask(left)), xi + k);
      const __m512 x1 = _mm512_maskz_loadu_ps(
          static_cast<__mmask16>(chunk_mask(left) >> 16), xi + k + 16);
      const __m512i hi = as_si(_mm512_cvtne2ps_pbh(x1, x0));
      const __m512bh lo = split ? _mm512_cvtne2ps_pbh(_mm512_sub_ps(x1, bf16_high_to_f32(hi)),
                                                      _mm512_sub_ps(x0, bf16_low_to_f32(hi)))
                                : as_bh(_mm512_setzero_si512());
      _mm512_storeu_si512(out + 2 * (i * chunks + c), hi);
      _mm512_storeu_si512(out + 2 * (i * chunks + c) + 1, as_si(lo));
    }
  }
  return out;
}

// y[i * ldy + j] = x_i · w_j (+ bias_j) for i < NX, j < R.
// next (or nullptr): the following R rows, prefetched meanwhile (see matmul_gemv_avx2.cpp).
template <bool Split, int NX, int R>
void dot_block(const __m512i* xs, int64_t chunks, int64_t cols, const uint16_t* w,
               const float* bias, float* y, int64_t ldy, const uint16_t* next) {
  const char* pf = reinterpret_cast<const char*>(next);
  __m512 acc[NX][R];
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t c = 0; c < chunks; ++c) {
    if (pf != nullptr)  // R rows x 64 bytes of the block per step
      for (int b = 0; b < R; ++b) _mm_prefetch(pf + (c * R + b) * 64, _MM_HINT_T0);
    const __mmask32 m = chunk_mask(cols - c * kChunk);
    __m512bh hi[NX], lo[NX];
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      hi[i] = as_bh(_mm512_loadu_si512(xs + 2 * (i * chunks + c)));
      lo[i] = as_bh(_mm512_loadu_si512(xs + 2 * (i * chunks + c) + 1));
    }
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const __m512bh wv = as_bh(_mm512_maskz_loadu_epi16(m, w + j * cols + c * kChunk));
#pragma GCC unroll 4
      for (int i = 0; i < NX; ++i) {
        acc[i][j] = _mm512_dpbf16_ps(acc[i][j], hi[i], wv);
        if constexpr (Split) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], lo[i], wv);
      }
    }
  }
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j)
      y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]) + (bias != nullptr ? bias[j] : 0.f);
}

template <bool Split, int NX>
void rows_range(const __m512i* xs, int64_t rows, int64_t cols, const uint16_t* w,
                const float* bias, float* y, int64_t r0, int64_t r1) {
  const int64_t chunks = (cols + kChunk - 1) / kChunk;
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    dot_block<Split, NX, 4>(xs, chunks, cols, w + r * cols, bias ? bias + r : nullptr, y + r, rows,
                     r + 8 <= r1 ? w + (r + 4) * cols : nullptr);
  for (; r < r1; ++r)
    dot_block<Split, NX, 1>(xs, chunks, cols, w + r * cols, bias ? bias + r : nullptr, y + r, rows,
                     nullptr);
}

template <bool Split>
void gemv_bf16_dot_with(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                        float* y, ThreadPool* pool) {
  const __m512i* xs = split_x(x, n, w.cols, Split);
  const auto* wd = static_cast<const uint16_t*>(w.data);
  auto run = [&](int64_t r0, int64_t r1) {
    if (n == 1) return rows_range<Split, 1>(xs, w.rows, w.cols, wd, bias, y, r0, r1);
    if (n == 2) return rows_range<Split, 2>(xs, w.rows, w.cols, wd, bias, y, r0, r1);
    rows_range<Split, 3>(xs, w.rows, w.cols, wd, bias, y, r0, r1);
  };
  const int64_t units = (w.rows + 3) / 4;  // 4-row units keep ranges on the fast path
  if (pool == nullptr || pool->size() == 1 || w.rows * w.cols < 64 * 1024) return run(0, w.rows);
  pool->parallel_ranges(
      units, [&](int64_t u0, int64_t u1) { run(u0 * 4, std::min(w.rows, u1 * 4)); }, 4);
}

}  // namespace

void gemv_bf16_dot(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                   ThreadPool* pool, bool split) {
  if (split) return gemv_bf16_dot_with<true>(x, n, w, bias, y, pool);
  gemv_bf16_dot_with<false>(x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
