#include "core/dtype.h"

namespace kantu {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t block_bytes;
  int64_t block_elems;
};
constexpr DTypeInfo kInfos[] = {
    {DType::kF32, "F32", 4, 1},      {DType::kF16, "F16", 2, 1},
    {DType::kBF16, "BF16", 2, 1},    {DType::kF64, "F64", 8, 1},
    {DType::kI8, "I8", 1, 1},        {DType::kU8, "U8", 1, 1},
    {DType::kI16, "I16", 2, 1},      {DType::kI32, "I32", 4, 1},
    {DType::kI64, "I64", 8, 1},      {DType::kBool, "BOOL", 1, 1},
    {DType::kQ8_0, "Q8_0", 34, 32},  {DType::kQ4_0, "Q4_0", 18, 32},
    {DType::kQ4_K, "Q4_K", 144, 256}, {DType::kQ5_K, "Q5_K", 176, 256},
    {DType::kQ6_K, "Q6_K", 210, 256},
};
const DTypeInfo& info_of(DType dtype) { return kInfos[static_cast<int>(dtype)]; }
}  // namespace

bool dtype_is_quantized(DType dtype) { return info_of(dtype).block_elems > 1; }
int64_t dtype_block_elems(DType dtype) { return info_of(dtype).block_elems; }
size_t dtype_block_bytes(DType dtype) { return info_of(dtype).block_bytes; }
size_t dtype_bytes(DType dtype, int64_t n) {
  const DTypeInfo& info = info_of(dtype);
  return static_cast<size_t>(n / info.block_elems) * info.block_bytes;
}
size_t dtype_size(DType dtype) {
  return dtype_is_quantized(dtype) ? 0 : info_of(dtype).block_bytes;
}
const char* dtype_name(DType dtype) { return info_of(dtype).name; }

bool parse_dtype(std::string_view name, DType* out) {
  for (const auto& info : kInfos) {
    if (info.block_elems == 1 && name == info.name) {
      *out = info.dtype;
      return true;
    }
  }
  return false;
}

}  // namespace kantu
