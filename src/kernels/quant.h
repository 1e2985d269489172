// Block-quantized weights: converting rows to and from float32, and quantizing whole
// matrices (BF16/F16/F32 -> Q8_0 or Q4_0) at load time. The block layouts are ggml's
// (kernels/quant_blocks.h), so GGUF tensors and our own quantized weights are the same thing.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "kernels/ops.h"

namespace kantu::kernels {

// dst[cols] = the values of one quantized row (cols a multiple of the type's block size).
// The scalar definition of every quantized type; the SIMD kernels are tested against it.
void dequantize_row(DType dtype, const void* src, float* dst, int64_t cols);

// The types quantize_row / quantize_matrix can produce (Q8_0, Q4_0).
bool can_quantize_to(DType dtype);

// One float row -> blocks of `dtype` (cols a multiple of 32). Round to nearest, as ggml's
// reference quantizers: Q8_0 d = max|x| / 127; Q4_0 d = -(the value of largest |x|) / 8.
void quantize_row(DType dtype, const float* src, void* dst, int64_t cols);

// Every row of `src` (F32, F16 or BF16) quantized into dst (dtype_bytes(dtype, rows * cols)
// bytes), rows spread over the pool (may be null).
void quantize_matrix(const WeightMatrix& src, DType dtype, void* dst, ThreadPool* pool);

}  // namespace kantu::kernels
