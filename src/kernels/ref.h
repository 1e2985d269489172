// The scalar reference kernels: the definition every SIMD version is tested against,
// and the portable fallback. Same contracts as ops.h (arguments already validated).
#pragma once

#include "kernels/ops.h"

namespace kantu::kernels::ref {

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

}  // namespace kantu::kernels::ref
