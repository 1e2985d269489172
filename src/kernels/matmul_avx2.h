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

}  // namespace kantu::kernels::avx2
