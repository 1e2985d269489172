// AVX2 building blocks for the block-quantized weight types: the activation rows quantized
// to int8 blocks of 32 (what the integer dot products consume), and the decoding of each
// weight block to bytes. Include ONLY from *_avx2.cpp files.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <vector>

#include "kernels/quant_blocks.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {

// n activation rows of `cols` floats as int8 blocks of 32: value ≈ d[b] * q[32b + l], and
// s[b] = d[b] * Σ_l q[32b + l] (for the types whose values carry an offset, Q4_K/Q5_K mins).
// Row i's blocks start at i * blocks_per_row.
struct QuantizedActs {
  int64_t blocks_per_row = 0;
  const float* d = nullptr;
  const float* s = nullptr;
  const int8_t* q = nullptr;
};

// Quantizes x[n][cols] (cols a multiple of 32) into per-thread scratch owned by the caller
// thread (valid until its next call).
QuantizedActs quantize_acts(const float* x, int64_t n, int64_t cols);

// Σ over 32 byte pairs of w * x, w unsigned (0..127 safe: no int16 saturation), x signed,
// as 8 int32 lanes (lane k: bytes 4k..4k+3).
inline __m256i dot_u8_i8(__m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}
// The same for signed w: maddubs wants one unsigned side, so move w's sign onto x.
inline __m256i dot_i8_i8(__m256i w, __m256i x) {
  return dot_u8_i8(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

// The 32 nibbles of 16 bytes: low nibbles to bytes 0..15, high nibbles to bytes 16..31.
inline __m256i unpack_nibbles(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}
// Low (shift 0) or high (shift 4) nibbles of 32 bytes.
inline __m256i nibbles_of(__m256i bytes, int shift) {
  return _mm256_and_si256(_mm256_srli_epi16(bytes, shift), _mm256_set1_epi8(0x0F));
}

inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}

inline float f16(uint16_t h) { return _cvtsh_ss(h); }

inline std::vector<float>& block_scales_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// The block scales of one Q8_0 or Q4_0 weight row w (nb blocks) against NX quantized x rows,
// for the GEMVs of both instruction sets: scales[i * stride + b] = d_w[b]·d_x_i[b], 0 for b
// in [nb, stride) (stride >= nb). When offsets is not null, offsets[i] = 8·Σ_b d_w[b]·s_x_i[b]:
// Q4_0's −8, as Σ (q − 8)·x = Σ q·x − 8·Σ x. Returns per-thread scratch, valid until this
// thread's next call.
template <int NX, class Block>
const float* block_scales(const Block* w, int64_t nb, const QuantizedActs& a, int64_t stride,
                          float* offsets) {
  float* scales = aligned_scratch(block_scales_buffer(), static_cast<size_t>((NX + 1) * stride + 8));
  float* dw = scales + NX * stride;
  for (int64_t b = 0; b < nb; ++b) dw[b] = f16(w[b].d);
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i) {
    const float* dx = a.d + i * a.blocks_per_row;
    const float* sx = a.s + i * a.blocks_per_row;
    float* out = scales + i * stride;
    __m256 offset = _mm256_setzero_ps();
    int64_t b = 0;
    for (; b + 8 <= nb; b += 8) {
      const __m256 d = _mm256_loadu_ps(dw + b);
      _mm256_storeu_ps(out + b, _mm256_mul_ps(d, _mm256_loadu_ps(dx + b)));
      if (offsets != nullptr) offset = _mm256_fmadd_ps(d, _mm256_loadu_ps(sx + b), offset);
    }
    float tail = 0.f;
    for (; b < nb; ++b) {
      out[b] = dw[b] * dx[b];
      tail += dw[b] * sx[b];
    }
    for (int64_t pad = nb; pad < stride; ++pad) out[pad] = 0.f;
    if (offsets != nullptr) offsets[i] = 8.f * (hsum(offset) + tail);
  }
  return scales;
}

}  // namespace kantu::kernels::avx2
