// Element types of stored tensors (safetensors / GGUF) and of activations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kantu {

enum class DType : uint8_t { kF32, kF16, kBF16, kF64, kI8, kU8, kI16, kI32, kI64, kBool };

// Bytes per element.
size_t dtype_size(DType dtype);
// The safetensors spelling ("F32", "BF16", ...).
const char* dtype_name(DType dtype);
// Parses the safetensors spelling; returns false for an unknown name.
bool parse_dtype(std::string_view name, DType* out);

}  // namespace kantu
