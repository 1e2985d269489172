// AVX-512 (F + BW + VL) kernels: the *_avx512.cpp files. The AVX-512 table starts as the
// AVX2 one (every AVX-512 CPU runs AVX2) and replaces the ops that gain from 16-wide
// registers. Only dispatch.cpp calls fill_table, after CPUID said the CPU can run them.
#pragma once

#include "kernels/dispatch.h"

namespace kantu::kernels::avx512 {

void fill_table(KernelTable* table);

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool);

}  // namespace kantu::kernels::avx512
