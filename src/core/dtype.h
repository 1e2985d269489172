// Element types of stored tensors (safetensors / GGUF) and of activations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kantu {

// The plain types come first; the block-quantized weight types after them use GGUF's
// (ggml's) block layouts bit for bit, so GGUF tensors map straight into the kernels:
//   Q8_0: 32 values = f16 scale + 32 x int8                      (34 bytes)
//   Q4_0: 32 values = f16 scale + 16 bytes of 4-bit (v - 8)      (18 bytes)
//   Q4_K, Q5_K, Q6_K: 256-value super-blocks (144, 176, 210 bytes)
enum class DType : uint8_t {
  kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool,
  kQ8_0, kQ4_0, kQ4_K, kQ5_K, kQ6_K,
};

// True for the block-quantized types (a row is a whole number of blocks).
bool dtype_is_quantized(DType dtype);
// Values per block: 1 for plain types, 32 or 256 for quantized ones.
int64_t dtype_block_elems(DType dtype);
// Bytes per block (= bytes per element for plain types).
size_t dtype_block_bytes(DType dtype);
// Bytes of n values; n must be a multiple of dtype_block_elems(dtype).
size_t dtype_bytes(DType dtype, int64_t n);
// Bytes per element of a plain type (0 for quantized types, which have no such size).
size_t dtype_size(DType dtype);
// The safetensors spelling ("F32", "BF16", ...) or the GGUF one ("Q8_0", "Q4_K", ...).
const char* dtype_name(DType dtype);
// Parses the safetensors spelling of a plain type; false for anything else (quantized
// types never come from safetensors headers).
bool parse_dtype(std::string_view name, DType* out);

}  // namespace kantu
