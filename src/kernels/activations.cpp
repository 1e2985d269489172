// The activation precisions of a matmul (ops.h Activations): their names, and the scalar
// definition of what each does to x.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/matmul_common.h"
#include "kernels/ops.h"

namespace kantu::kernels {

Activations effective_activations(const WeightMatrix& w) {
  if (w.activations == Activations::kInt8 && !dtype_is_quantized(w.dtype)) return Activations::kBF16;
  return w.activations;
}

const char* activations_name(Activations a) {
  switch (a) {
    case Activations::kBF16:
      return "bf16";
    case Activations::kInt8:
      return "int8";
    default:
      return "f32";
  }
}

bool parse_activations(const char* name, Activations* out) {
  for (Activations a : {Activations::kF32, Activations::kBF16, Activations::kInt8}) {
    if (std::strcmp(name, activations_name(a)) == 0) {
      *out = a;
      return true;
    }
  }
  return false;
}

void round_activations(Activations a, const float* x, int64_t n, int64_t cols, float* out) {
  const int64_t total = n * cols;
  switch (a) {
    case Activations::kF32:
      if (out != x) std::memmove(out, x, static_cast<size_t>(total) * sizeof(float));
      return;
    case Activations::kBF16:
      for (int64_t i = 0; i < total; ++i) out[i] = bf16_to_f32(f32_to_bf16(x[i]));
      return;
    case Activations::kInt8:
      KANTU_CHECK(cols % 32 == 0, "int8 activations need whole blocks of 32, got ", cols);
      // As the kernels quantize (avx2::quantize_acts): scale d = max|x| / 127, values
      // round(x · (127 / max|x|)) to nearest even, in float32.
      for (int64_t b = 0; b < total; b += 32) {
        float m = 0.f;
        for (int l = 0; l < 32; ++l) m = std::max(m, std::fabs(x[b + l]));
        const float id = m > 0.f ? 127.f / m : 0.f, d = m / 127.f;
        for (int l = 0; l < 32; ++l) out[b + l] = d * std::nearbyint(x[b + l] * id);
      }
      return;
  }
}

const float* rounded_activations(Activations a, const float* x, int64_t n, int64_t cols) {
  if (a == Activations::kF32) return x;
  thread_local std::vector<float> buffer;
  buffer.resize(static_cast<size_t>(n * cols));
  round_activations(a, x, n, cols, buffer.data());
  return buffer.data();
}

void bias_only(int64_t n, const WeightMatrix& w, const float* bias, float* y) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < w.rows; ++r) y[i * w.rows + r] = bias != nullptr ? bias[r] : 0.f;
}

}  // namespace kantu::kernels
