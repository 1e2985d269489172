// AVX2 + FMA + F16C kernels (the *_avx2.cpp files). Only dispatch.cpp calls fill_table,
// and only after CPUID said the CPU can run them.
#pragma once

#include "kernels/dispatch.h"

namespace kantu::kernels::avx2 {

// Replaces the entries of `table` that have an AVX2 version.
void fill_table(KernelTable* table);

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool);

}  // namespace kantu::kernels::avx2
