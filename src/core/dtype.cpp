#include "core/dtype.h"

namespace kantu {

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kInfos[] = {
    {DType::kF32, "F32", 4},  {DType::kF16, "F16", 2}, {DType::kBF16, "BF16", 2},
    {DType::kF64, "F64", 8},  {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
    {DType::kI16, "I16", 2},  {DType::kI32, "I32", 4}, {DType::kI64, "I64", 8},
    {DType::kBool, "BOOL", 1},
};
}  // namespace

size_t dtype_size(DType dtype) { return kInfos[static_cast<int>(dtype)].size; }
const char* dtype_name(DType dtype) { return kInfos[static_cast<int>(dtype)].name; }

bool parse_dtype(std::string_view name, DType* out) {
  for (const auto& info : kInfos) {
    if (name == info.name) {
      *out = info.dtype;
      return true;
    }
  }
  return false;
}

}  // namespace kantu
