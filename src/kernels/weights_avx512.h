// Loading up to 16 weights of a stored float type as float32 in one zmm (m: which lanes are
// real; the rest read as 0), for the AVX-512 float GEMV and GEMM; QuantRows tags the block
// types, which those decode first. Include after the file's KANTU_AVX512_TARGET line.
#pragma once

#include <cstdint>

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

struct Bf16x16 {
  using T = uint16_t;
  static __m512 load(const T* p, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};
struct F16x16 {
  using T = uint16_t;
  static __m512 load(const T* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct F32x16 {
  using T = float;
  static __m512 load(const T* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct QuantRows {
  using T = uint8_t;
};

}  // namespace
}  // namespace kantu::kernels::KANTU_AVX512_NS
