// The resampler's inner loops, written once and compiled twice (resize_kernels.cpp for
// any x86-64, resize_kernels_avx2.cpp with AVX2 so the compiler vectorises them).
// Integer arithmetic only, so both builds give identical bytes. The functions are static
// so each build keeps its own copy (no ODR merge across the two flag sets). Internal.
#pragma once

#include "image/resize_kernels.h"

namespace kantu::resample_impl {

static inline uint8_t clip8(int32_t v) {
  if (v >= (1 << kResamplePrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kResamplePrecisionBits);
}

static inline void horizontal(const uint8_t* in_row, uint8_t* out_row, int out_width,
                       const ResampleAxis& axis) {
  constexpr int32_t kHalf = 1 << (kResamplePrecisionBits - 1);
  const int ksize = axis.ksize;
  for (int x = 0; x < out_width; ++x) {
    const int32_t* k = axis.coeffs.data() + static_cast<size_t>(x) * ksize;
    const uint8_t* p = in_row + static_cast<size_t>(axis.first[x]) * 3;
    const int n = axis.count[x];
    int32_t s0 = kHalf, s1 = kHalf, s2 = kHalf;
    for (int i = 0; i < n; ++i) {
      s0 += p[3 * i + 0] * k[i];
      s1 += p[3 * i + 1] * k[i];
      s2 += p[3 * i + 2] * k[i];
    }
    out_row[3 * x + 0] = clip8(s0);
    out_row[3 * x + 1] = clip8(s1);
    out_row[3 * x + 2] = clip8(s2);
  }
}

static inline void vertical(const uint8_t* rows, size_t stride, int n_taps, const int32_t* k,
                     uint8_t* out, size_t n, int32_t* acc) {
  constexpr int32_t kHalf = 1 << (kResamplePrecisionBits - 1);
  for (size_t j = 0; j < n; ++j) acc[j] = kHalf;
  for (int i = 0; i < n_taps; ++i) {
    const uint8_t* row = rows + static_cast<size_t>(i) * stride;
    const int32_t w = k[i];
    for (size_t j = 0; j < n; ++j) acc[j] += row[j] * w;
  }
  for (size_t j = 0; j < n; ++j) out[j] = clip8(acc[j]);
}

}  // namespace kantu::resample_impl
