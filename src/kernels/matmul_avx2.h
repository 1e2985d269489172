// The two regimes of the AVX2 matmul (same contract as kernels::matmul).
#pragma once

#include "kernels/ops.h"

namespace kantu::kernels::avx2 {

// n <= 3: stream W once, all x rows at a time (memory-bound decode).
void gemv(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool);
// Any n, tuned for n >= 4: W tiles converted to f32 once and reused (compute-bound).
void gemm(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool);

// Block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K), n <= 4: x quantized to int8 blocks,
// integer dot products (matmul_quant_avx2.cpp).
void gemv_quant(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool);
// out[kc] = columns [k0, k0 + kc) of row `row` of a block-quantized W as float32 (k0 and kc
// multiples of the block size, or kc reaching the end of the row).
void dequantize_slice(const WeightMatrix& w, int64_t row, int64_t k0, int64_t kc, float* out);

}  // namespace kantu::kernels::avx2
