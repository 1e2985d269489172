#include "core/tensor.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace kantu {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<float> to_f32(const TensorView& view) {
  const size_t n = static_cast<size_t>(view.numel());
  std::vector<float> out(n);
  if (n == 0) return out;  // an empty tensor (a 0 dim): no memcpy from/to null
  const auto* bytes = static_cast<const uint8_t*>(view.data);
  switch (view.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), bytes, n * 4);
      break;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        out[i] = bf16_to_f32(h);
      }
      break;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, bytes + 2 * i, 2);
        out[i] = f16_to_f32(h);
      }
      break;
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, bytes + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    default:
      fail(ErrorKind::kUnsupported, "tensor ", view.name, " has dtype ", dtype_name(view.dtype),
           ", expected a floating-point type");
  }
  return out;
}

}  // namespace kantu
