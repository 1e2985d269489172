// The AVX-512 matmul entry (same contract as kernels::matmul): picks the kernel for the weight
// type, the activation precision (ops.h Activations), the number of x rows and the CPU's
// extensions, and holds the float decode GEMV:
//  - n <= 3 (decode): stream each weight row once for all x rows, 4 rows at a time, tails
//    with masked loads so no scalar loop runs. BF16 weights on CPUs with AVX-512 BF16 use
//    vdpbf16ps instead (matmul_bf16dot_avx512.cpp; with f32 activations x split into two
//    bf16 parts, so nothing is lost to the f32 budget).
//  - n >= 4: the blocked GEMMs: bf16 (gemm_bf16_avx512.cpp) for BF16 weights with bf16
//    activations, int8 (gemm_int8_vnni_avx512.cpp) for block types with int8 activations,
//    else float32 FMAs (gemm_f32_avx512.cpp) on x rounded as the precision says.
// Block-quantized weights in decode: quant_gemv_avx512.h's integer GEMV for int8 activations
// (with or without VNNI, as the table chose), else AVX2's float GEMV over decoded blocks.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/matmul_avx2.h"
#include "kernels/matmul_common.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

// This file is compiled with the AVX2 flags and switches AVX-512 on only here, after every
// include: inline functions and templates from headers (std::vector, avx2::pack_panel ...)
// are emitted as weak symbols shared with other files, and the linker keeps one copy, so
// they must not contain AVX-512 instructions (an AVX2-only CPU would fault in them).
KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl")

// After the target line: their code (internal linkage) is compiled for these instructions.
#include "kernels/weights_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr __mmask16 kAll = 0xFFFF;
inline __mmask16 tail_mask(int64_t n) {
  return static_cast<__mmask16>((1u << n) - 1u);
}

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

// The kernels one table variant can run.
struct Variant {
  void (*quant_gemv)(const float*, int64_t, const WeightMatrix&, const float*, float*, ThreadPool*);
  bool int8_gemm;  // AVX-512 VNNI
  bool bf16_dot;   // AVX-512 BF16
};

void matmul_with(const Variant& v, const float* x, int64_t n, const WeightMatrix& w,
                 const float* bias, float* y, ThreadPool* pool) {
  if (w.cols == 0) return bias_only(n, w, bias, y);
  const Activations a = effective_activations(w);
  if (dtype_is_quantized(w.dtype)) {
    if (a == Activations::kInt8 && n <= avx2::kGemvMaxRows) return v.quant_gemv(x, n, w, bias, y, pool);
    if (a == Activations::kInt8 && v.int8_gemm) return gemm_int8_vnni(x, n, w, bias, y, pool);
    const float* xr = rounded_activations(a, x, n, w.cols);
    if (n <= avx2::kGemvMaxRows) return avx2::gemv(xr, n, w, bias, y, pool);
    return gemm_f32(xr, n, w, bias, y, pool);
  }
  if (v.bf16_dot && w.dtype == DType::kBF16) {
    if (n <= 3) return gemv_bf16_dot(x, n, w, bias, y, pool, /*split=*/a == Activations::kF32);
    if (a == Activations::kBF16) return gemm_bf16(x, n, w, bias, y, pool);
  }
  const float* xr = rounded_activations(a, x, n, w.cols);
  if (n > 3) return gemm_f32(xr, n, w, bias, y, pool);
  switch (w.dtype) {
    case DType::kBF16:
      return gemv_typed<Bf16x16>(xr, n, w, bias, y, pool);
    case DType::kF16:
      return gemv_typed<F16x16>(xr, n, w, bias, y, pool);
    default:
      return gemv_typed<F32x16>(xr, n, w, bias, y, pool);
  }
}

}  // namespace

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  matmul_with({gemv_quant, false, false}, x, n, w, bias, y, pool);
}

void matmul_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                 ThreadPool* pool) {
  matmul_with({gemv_quant_vnni, true, false}, x, n, w, bias, y, pool);
}

void matmul_vnni_bf16(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                      float* y, ThreadPool* pool) {
  matmul_with({gemv_quant_vnni, true, true}, x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
