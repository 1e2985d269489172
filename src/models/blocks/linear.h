// The two parameter shapes every block is made of: a linear layer (a weight matrix in its
// stored type, straight from the mapped file, plus an optional float32 bias) and a norm's
// float32 scale (and shift). Matrices always run through kernels::matmul, the one entry
// point the kernels layer chooses the ISA and activation precision behind.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {

struct Linear {
  kernels::WeightMatrix w;  // [out, in], row-major, stored dtype
  std::vector<float> bias;  // [out] or empty
  const float* bias_ptr() const { return bias.empty() ? nullptr : bias.data(); }
};

// y[n, out] = x[n, in] · wᵀ (+ bias).
inline void linear(const float* x, int64_t n, const Linear& l, float* y, ThreadPool* pool) {
  kernels::matmul(x, n, l.w, l.bias_ptr(), y, pool);
}

}  // namespace kantu::models::blocks
