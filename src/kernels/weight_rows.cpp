// Weight rows as float32: the one conversion every stored type goes through outside the
// SIMD kernels (reference matmul, quantizing at load, token-embedding lookups).
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/ops.h"
#include "kernels/quant.h"

namespace kantu::kernels {
namespace {

// 16-bit rows are read through memcpy: a mapped file's tensor need not be 2-byte aligned.
template <float (*Convert)(uint16_t)>
void halves_to_f32(const uint8_t* src, int64_t cols, float* out) {
  for (int64_t c = 0; c < cols; ++c) {
    uint16_t h;
    std::memcpy(&h, src + 2 * c, sizeof h);
    out[c] = Convert(h);
  }
}

}  // namespace

void weight_row_to_f32(const WeightMatrix& w, int64_t row, float* out) {
  KANTU_CHECK(row >= 0 && row < w.rows, "weight_row_to_f32: row ", row, " of ", w.rows);
  const auto* base = static_cast<const uint8_t*>(w.data);
  switch (w.dtype) {
    case DType::kF32:
      std::memcpy(out, base + row * w.cols * 4, static_cast<size_t>(w.cols) * 4);
      return;
    case DType::kBF16:
      return halves_to_f32<bf16_to_f32>(base + row * w.cols * 2, w.cols, out);
    case DType::kF16:
      return halves_to_f32<f16_to_f32>(base + row * w.cols * 2, w.cols, out);
    default:
      if (!dtype_is_quantized(w.dtype))
        fail(ErrorKind::kUnsupported, "weight type ", dtype_name(w.dtype),
             " has no float32 conversion");
      return dequantize_row(w.dtype, base + row * dtype_bytes(w.dtype, w.cols), out, w.cols);
  }
}

}  // namespace kantu::kernels
