// y[n, rows] = x[n, cols] · Wᵀ for small n (decode, batched decode): memory-bound, so each
// weight row is streamed once from memory for all n x-rows, R rows at a time, with
// independent accumulators to hide the FMA latency.
#include <algorithm>
#include <vector>

#include "kernels/matmul_avx2.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {
namespace {

// y[i * ldy + j] (+)= x_i · w_j for i < NX, j < R, with U-way unrolling over columns.
// next (or nullptr): the following R rows, fetched into cache while these are multiplied.
// The R rows of a block are one contiguous run of memory, and each weight row is only a
// few KiB: the hardware prefetcher, which restarts at every 4 KiB page, alone keeps one
// core at about 70% of its read bandwidth here.
template <class L, int NX, int R, int U>
void dot_block(const float* x, int64_t cols, const typename L::T* w, const float* bias,
               float* y, int64_t ldy, const typename L::T* next) {
  constexpr int kStepBytes = R * 8 * U * sizeof(typename L::T);  // of the block per step
  const char* pf = reinterpret_cast<const char*>(next);
  // Every loop over U, NX, R unrolled (forced: GCC leaves some of them rolled, and then the
  // accumulators live in memory), so the accumulators stay in registers.
  __m256 acc[U][NX][R];
#pragma GCC unroll 4
  for (int u = 0; u < U; ++u)
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) acc[u][i][j] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 * U <= cols; c += 8 * U) {
    if (pf != nullptr) {
      const char* at = pf + c * R * static_cast<int64_t>(sizeof(typename L::T));
      for (int b = 0; b < kStepBytes; b += 64) _mm_prefetch(at + b, _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) {
      __m256 xv[NX];
#pragma GCC unroll 4
      for (int i = 0; i < NX; ++i) xv[i] = _mm256_loadu_ps(x + i * cols + c + 8 * u);
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) {
        const __m256 wv = L::load8(w + j * cols + c + 8 * u);
#pragma GCC unroll 4
        for (int i = 0; i < NX; ++i) acc[u][i][j] = _mm256_fmadd_ps(xv[i], wv, acc[u][i][j]);
      }
    }
  }
  for (; c + 8 <= cols; c += 8) {
    __m256 xv[NX];
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) xv[i] = _mm256_loadu_ps(x + i * cols + c);
#pragma GCC unroll 4
    for (int j = 0; j < R; ++j) {
      const __m256 wv = L::load8(w + j * cols + c);
#pragma GCC unroll 4
      for (int i = 0; i < NX; ++i) acc[0][i][j] = _mm256_fmadd_ps(xv[i], wv, acc[0][i][j]);
    }
  }
#pragma GCC unroll 4
  for (int u = 1; u < U; ++u)
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) acc[0][i][j] = _mm256_add_ps(acc[0][i][j], acc[u][i][j]);
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i) {
    float sums[R];
    if constexpr (R == 4) {
      _mm_storeu_ps(sums, hsum4(acc[0][i][0], acc[0][i][1], acc[0][i][2], acc[0][i][3]));
    } else {
#pragma GCC unroll 4
      for (int j = 0; j < R; ++j) sums[j] = hsum(acc[0][i][j]);
    }
    for (int j = 0; j < R; ++j) {
      float s = sums[j];
      for (int64_t t = c; t < cols; ++t) s += x[i * cols + t] * L::load1(w + j * cols + t);
      if (bias != nullptr) s += bias[j];
      y[i * ldy + j] = s;
    }
  }
}

// x rows [0, n) against weight rows [r0, r1): R weight rows at a time, the x rows in chunks
// of up to 3 while those R rows stay in L1, so the weights stream from memory once.
// next: the rows after these to prefetch (nullptr: none).
template <class L, int R>
void dot_rows(const float* x, int64_t n, int64_t rows, int64_t cols, const typename L::T* w,
              const float* bias, float* y, const typename L::T* next) {
  for (int64_t i = 0; i < n;) {
    const float* xi = x + i * cols;
    float* yi = y + i * rows;
    const typename L::T* pf = i == 0 ? next : nullptr;  // the first x chunk brings them in
    switch (std::min<int64_t>(n - i, 3)) {
      case 1:
        dot_block<L, 1, R, 2>(xi, cols, w, bias, yi, rows, pf);
        i += 1;
        break;
      case 2:
        dot_block<L, 2, R, 1>(xi, cols, w, bias, yi, rows, pf);
        i += 2;
        break;
      default:
        dot_block<L, 3, R, 1>(xi, cols, w, bias, yi, rows, pf);
        i += 3;
        break;
    }
  }
}

template <class L>
void gemv_range(const float* x, int64_t n, int64_t rows, int64_t cols, const typename L::T* w,
                const float* bias, float* y, int64_t r0, int64_t r1) {
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4)
    dot_rows<L, 4>(x, n, rows, cols, w + r * cols, bias ? bias + r : nullptr, y + r,
                   r + 8 <= r1 ? w + (r + 4) * cols : nullptr);
  for (; r < r1; ++r)
    dot_rows<L, 1>(x, n, rows, cols, w + r * cols, bias ? bias + r : nullptr, y + r, nullptr);
}

// Runs run(r0, r1) over the weight rows, split over the pool in units of 4 rows (which keeps
// every range on the 4-row fast path); small matrices stay on the calling thread.
template <class Run>
void split_rows(const WeightMatrix& w, ThreadPool* pool, const Run& run) {
  const int64_t units = (w.rows + 3) / 4;
  if (pool == nullptr || pool->size() == 1 || w.rows * w.cols < 64 * 1024) {
    run(0, w.rows);
    return;
  }
  pool->parallel_ranges(
      units, [&](int64_t u0, int64_t u1) { run(u0 * 4, std::min(w.rows, u1 * 4)); }, 4);
}

template <class L>
void gemv_typed(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  const auto* wd = static_cast<const typename L::T*>(w.data);
  split_rows(w, pool, [&](int64_t r0, int64_t r1) {
    gemv_range<L>(x, n, w.rows, w.cols, wd, bias, y, r0, r1);
  });
}

std::vector<float>& decoded_rows_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// Block-quantized weights with float32 x (the f32 and bf16 precisions): every 4 rows decoded
// to float32 in L1 (dequantize_slice), then the float dot products. The decoding costs more
// than reading the blocks; with int8 x, gemv_quant multiplies the blocks as they are.
void gemv_dequantized(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                      float* y, ThreadPool* pool) {
  const int64_t cols = w.cols;
  split_rows(w, pool, [&](int64_t r0, int64_t r1) {
    float* rows = aligned_scratch(decoded_rows_buffer(), static_cast<size_t>(4 * cols));
    for (int64_t r = r0; r < r1; r += 4) {
      const int64_t R = std::min<int64_t>(4, r1 - r);
      for (int64_t j = 0; j < R; ++j) dequantize_slice(w, r + j, 0, cols, rows + j * cols);
      if (R == 4) {
        dot_rows<F32Weights, 4>(x, n, w.rows, cols, rows, bias ? bias + r : nullptr, y + r, nullptr);
        continue;
      }
      for (int64_t j = 0; j < R; ++j)
        dot_rows<F32Weights, 1>(x, n, w.rows, cols, rows + j * cols, bias ? bias + r + j : nullptr,
                                y + r + j, nullptr);
    }
  });
}

}  // namespace

void gemv(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool) {
  switch (w.dtype) {
    case DType::kBF16:
      return gemv_typed<Bf16Weights>(x, n, w, bias, y, pool);
    case DType::kF16:
      return gemv_typed<F16Weights>(x, n, w, bias, y, pool);
    case DType::kF32:
      return gemv_typed<F32Weights>(x, n, w, bias, y, pool);
    default:
      return gemv_dequantized(x, n, w, bias, y, pool);
  }
}

}  // namespace kantu::kernels::avx2
