// Small pieces every instruction set's matmul entry shares (plain C++, activations.cpp).
#pragma once

#include "kernels/ops.h"

namespace kantu::kernels {

// x as precision `a` sees it, for kernels that multiply float32: x itself for kF32, else
// round_activations' copy in per-thread scratch (valid until this thread's next call).
const float* rounded_activations(Activations a, const float* x, int64_t n, int64_t cols);

// y[n, rows] = bias (or 0): the product with a matrix of no columns.
void bias_only(int64_t n, const WeightMatrix& w, const float* bias, float* y);

}  // namespace kantu::kernels
