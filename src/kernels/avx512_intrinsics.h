// The AVX-512 intrinsics of the *_avx512.cpp files: the compiler's own, or, when
// KANTU_AVX512_EMULATED is defined, SIMDe's portable versions. The emulated build compiles
// the same kernel sources a second time (namespace kantu::kernels::avx512_emulated, AVX2
// flags, no AVX-512 instruction anywhere), so the tests run every AVX-512 kernel against
// the scalar reference on CPUs without AVX-512 (the namespace: KANTU_AVX512_NS, avx512.h).
// Include after every other header, and switch AVX-512 on with KANTU_AVX512_TARGET(...),
// which is empty in the emulated build.
#pragma once

#include <immintrin.h>

#if defined(KANTU_AVX512_EMULATED)

#include <cstdint>
#include <cstring>

// With immintrin.h included first, SIMDe takes GCC's own vector types (__m512 ...) as its
// types, so kernel code and SIMDe agree on them.
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

// The few intrinsics the kernels use that SIMDe 0.7 lacks, written plainly: this is the
// definition of the instruction the tests hold the kernels to, not a fast path.
namespace kantu::kernels::avx512_emulated::intrinsics {

inline simde__m512 maskz_loadu_ps(uint16_t m, const void* p) {
  float v[16] = {};
  for (int l = 0; l < 16; ++l)
    if (m >> l & 1) std::memcpy(&v[l], static_cast<const float*>(p) + l, sizeof(float));
  return simde_mm512_loadu_ps(v);
}
inline void mask_storeu_ps(void* p, uint16_t m, simde__m512 a) {
  float v[16];
  simde_mm512_storeu_ps(v, a);
  for (int l = 0; l < 16; ++l)
    if (m >> l & 1) std::memcpy(static_cast<float*>(p) + l, &v[l], sizeof(float));
}
inline simde__m256i maskz_loadu_epi16_256(uint16_t m, const void* p) {
  uint16_t v[16] = {};
  for (int l = 0; l < 16; ++l)
    if (m >> l & 1) std::memcpy(&v[l], static_cast<const uint16_t*>(p) + l, sizeof(uint16_t));
  return simde_mm256_loadu_si256(v);
}
inline simde__m512i maskz_loadu_epi16(uint32_t m, const void* p) {
  uint16_t v[32] = {};
  for (int l = 0; l < 32; ++l)
    if (m >> l & 1) std::memcpy(&v[l], static_cast<const uint16_t*>(p) + l, sizeof(uint16_t));
  return simde_mm512_loadu_si512(v);
}
// float32 -> bf16 as vcvtne2ps2bf16 does it: round to nearest even, denormal inputs as
// (signed) zero, NaN kept quiet; b's 16 values go to the upper half, a's to the lower.
inline uint16_t bf16_rne(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7F800000u) == 0) return static_cast<uint16_t>((bits >> 16) & 0x8000u);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}
inline simde__m512bh cvtne2ps_pbh(simde__m512 b, simde__m512 a) {
  float fa[16], fb[16];
  simde_mm512_storeu_ps(fa, a);
  simde_mm512_storeu_ps(fb, b);
  uint16_t out[32];
  for (int l = 0; l < 16; ++l) {
    out[l] = bf16_rne(fa[l]);
    out[16 + l] = bf16_rne(fb[l]);
  }
  simde__m512bh r;
  std::memcpy(&r, out, sizeof(r));
  return r;
}
inline float reduce_add_ps(simde__m512 a) {
  float v[16];
  simde_mm512_storeu_ps(v, a);
  // In the order of GCC's _mm512_reduce_add_ps (halving tree).
  for (int width = 8; width >= 1; width /= 2)
    for (int l = 0; l < width; ++l) v[l] += v[l + width];
  return v[0];
}
inline float reduce_max_ps(simde__m512 a) {
  float v[16];
  simde_mm512_storeu_ps(v, a);
  float m = v[0];
  for (int l = 1; l < 16; ++l) m = v[l] > m ? v[l] : m;
  return m;
}
// Truncation toward zero; the kernels only convert values well inside the int32 range.
inline simde__m512i cvttps_epi32(simde__m512 a) {
  float in[16];
  simde_mm512_storeu_ps(in, a);
  int32_t out[16];
  for (int l = 0; l < 16; ++l) out[l] = static_cast<int32_t>(in[l]);
  return simde_mm512_loadu_si512(out);
}
inline simde__m512i cvtepu16_epi32(simde__m256i a) {
  uint16_t in[16];
  simde_mm256_storeu_si256(in, a);
  uint32_t out[16];
  for (int l = 0; l < 16; ++l) out[l] = in[l];
  return simde_mm512_loadu_si512(out);
}
inline simde__m512 cvtph_ps(simde__m256i a) {
  return simde_mm512_insertf32x8(
      simde_mm512_castps256_ps512(_mm256_cvtph_ps(_mm256_castsi256_si128(a))),
      _mm256_cvtph_ps(_mm256_extracti128_si256(a, 1)), 1);
}

inline simde__m512 cvtepi32_ps(simde__m512i a) {
  int32_t in[16];
  simde_mm512_storeu_si512(in, a);
  float out[16];
  for (int l = 0; l < 16; ++l) out[l] = static_cast<float>(in[l]);
  return simde_mm512_loadu_ps(out);
}
inline simde__m512i cvtepi8_epi32(simde__m128i a) {
  int8_t in[16];
  simde_mm_storeu_si128(in, a);
  int32_t out[16];
  for (int l = 0; l < 16; ++l) out[l] = in[l];
  return simde_mm512_loadu_si512(out);
}

}  // namespace kantu::kernels::avx512_emulated::intrinsics

#define _mm512_maskz_loadu_ps(m, p) ::kantu::kernels::avx512_emulated::intrinsics::maskz_loadu_ps(m, p)
#define _mm512_mask_storeu_ps(p, m, a) \
  ::kantu::kernels::avx512_emulated::intrinsics::mask_storeu_ps(p, m, a)
#define _mm256_maskz_loadu_epi16(m, p) \
  ::kantu::kernels::avx512_emulated::intrinsics::maskz_loadu_epi16_256(m, p)
#define _mm512_maskz_loadu_epi16(m, p) \
  ::kantu::kernels::avx512_emulated::intrinsics::maskz_loadu_epi16(m, p)
#define _mm512_cvtne2ps_pbh(b, a) ::kantu::kernels::avx512_emulated::intrinsics::cvtne2ps_pbh(b, a)
#define _mm512_reduce_add_ps(a) ::kantu::kernels::avx512_emulated::intrinsics::reduce_add_ps(a)
#define _mm512_reduce_max_ps(a) ::kantu::kernels::avx512_emulated::intrinsics::reduce_max_ps(a)
#define _mm512_cvttps_epi32(a) ::kantu::kernels::avx512_emulated::intrinsics::cvttps_epi32(a)
#define _mm512_cvtepu16_epi32(a) ::kantu::kernels::avx512_emulated::intrinsics::cvtepu16_epi32(a)
#define _mm512_cvtepi32_ps(a) ::kantu::kernels::avx512_emulated::intrinsics::cvtepi32_ps(a)
#define _mm512_cvtepi8_epi32(a) ::kantu::kernels::avx512_emulated::intrinsics::cvtepi8_epi32(a)
// SIMDe 0.7.4's alias of this one takes the masked form's four arguments.
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
#define _mm512_cvtph_ps(a) ::kantu::kernels::avx512_emulated::intrinsics::cvtph_ps(a)

// No target switch: the emulated kernels are plain AVX2 code.
#define KANTU_AVX512_TARGET(features)

#else

#define KANTU_AVX512_PRAGMA(x) _Pragma(#x)
#define KANTU_AVX512_TARGET(features) KANTU_AVX512_PRAGMA(GCC target(features))

#endif
