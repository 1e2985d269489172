// AVX2 + FMA + F16C kernels (the *_avx2.cpp files). Only dispatch.cpp calls fill_table,
// and only after CPUID said the CPU can run them.
#pragma once

#include "kernels/dispatch.h"

namespace kantu::kernels::avx2 {

// Replaces the entries of `table` that have an AVX2 version.
void fill_table(KernelTable* table);

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool);
void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y);
void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, int64_t dim,
                float eps, float* y);
void gelu_tanh(float* x, int64_t n);
void gelu_erf(float* x, int64_t n);
void quick_gelu(float* x, int64_t n);
void silu(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void add(const float* a, const float* b, float* out, int64_t n);
void rope_rotate_half(float* x, const float* cos, const float* sin, int64_t head_dim);
void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& shape,
               ThreadPool* pool);

}  // namespace kantu::kernels::avx2
