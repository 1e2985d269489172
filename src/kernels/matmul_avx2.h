// The two regimes of the AVX2 matmul (same contract as kernels::matmul).
#pragma once

#include "kernels/ops.h"

namespace kantu::kernels::avx2 {

// Up to this many x rows (a decode step of that many sequences) the GEMV beats the GEMM:
// it streams W once and re-reads a few rows from L1 per 3 x rows, where the GEMM converts
// and packs W first. Measured on 6144x2048 BF16, 2 threads (busy Zen 3): 4 rows 29 ms by
// GEMV vs 39 ms by GEMM; 8 rows 65 ms by GEMV vs 49 ms by GEMM.
constexpr int64_t kGemvMaxRows = 4;

// n <= kGemvMaxRows: stream W once for all x rows (memory-bound decode), float32 x (block
// types decoded to float32 first).
void gemv(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool);
// Any n, tuned for n >= 4, w.cols > 0: W tiles converted to f32 once and reused
// (compute-bound).
void gemm(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool);

// Block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K), n <= 4: x quantized to int8 blocks,
// integer dot products (matmul_quant_avx2.cpp).
void gemv_quant(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool);
// out[kc] = columns [k0, k0 + kc) of row `row` of a block-quantized W as float32 (k0 and kc
// multiples of the block size, or kc reaching the end of the row).
void dequantize_slice(const WeightMatrix& w, int64_t row, int64_t k0, int64_t kc, float* out);
// The same columns as groups of 32 values in signed bytes: value l of group g (l < 32) is
// scale[2g + l / 16] · q[32g + l] − min[g] (Q6_K has a scale per 16 values, Q4_K/Q5_K a min
// per 32; the other types repeat one scale and have min 0). q holds kc bytes, scale kc / 16
// floats, min kc / 32.
void decode_groups(const WeightMatrix& w, int64_t row, int64_t k0, int64_t kc, int8_t* q,
                   float* scale, float* min);

}  // namespace kantu::kernels::avx2
