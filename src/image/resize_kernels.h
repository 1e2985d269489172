// The inner loops of the Pillow-exact resampler (image/resize.h), as a scalar reference
// and an AVX2 build of the same code, picked once from CPUID. Internal to image/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kantu {

constexpr int kResamplePrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS

// Fixed-point taps of one axis: output i reads count[i] inputs starting at first[i].
struct ResampleAxis {
  int ksize = 0;                 // taps reserved per output
  std::vector<int> first;        // [out]
  std::vector<int> count;        // [out]
  std::vector<int32_t> coeffs;   // [out, ksize], 22-bit fixed point
};

struct ResampleKernels {
  // One RGB row: out[x] = clip8(sum_i in[first[x] + i] * k[x][i]) for x < out_width.
  void (*horizontal)(const uint8_t* in_row, uint8_t* out_row, int out_width,
                     const ResampleAxis& axis);
  // One output row from n_taps input rows starting at rows (stride bytes apart);
  // acc is scratch of n bytes.
  void (*vertical)(const uint8_t* rows, size_t stride, int n_taps, const int32_t* k,
                   uint8_t* out, size_t n, int32_t* acc);
};

ResampleKernels resample_kernels_scalar();
ResampleKernels resample_kernels_avx2();
// The best set for this CPU (chosen once).
const ResampleKernels& resample_kernels();

}  // namespace kantu
