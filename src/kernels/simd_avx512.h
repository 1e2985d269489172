// Small AVX-512 helpers shared by the *_avx512.cpp GEMMs: masks, the 16x16 transpose the
// packers are built on, and the store of a register tile. Include after the file's KANTU_AVX512_TARGET line (internal linkage,
// so each file's copy is compiled for its own instructions).
#pragma once

#include <cstdint>

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

// The first n of 16 lanes (n >= 16: all).
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// In place: afterwards r[c] holds element c of every input row (r[c] lane i = old r[i] lane c),
// 32-bit elements.
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + j], 128-bit lane L: column 4L + j of rows 4i .. 4i + 3.
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);  // lanes 0, 2
    const __m512i v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xDD);  // lanes 1, 3
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xDD);
    r[j] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[8 + j] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[4 + j] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + j] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

// Stores the first n_cols of 16 transposed columns: dst + c * stride gets `lanes` lanes of
// r[c] (32-bit elements).
inline void store_columns(const __m512i r[16], int64_t n_cols, __mmask16 lanes, void* dst,
                          int64_t stride) {
  auto* out = static_cast<float*>(dst);
  for (int64_t c = 0; c < n_cols; ++c)
    _mm512_mask_storeu_ps(out + c * stride, lanes, _mm512_castsi512_ps(r[c]));
}

// e^x, 16 lanes: exp_ps of simd_avx2.h (same range reduction and polynomial, within ~2 ulp);
// below -87.3 the result is 0 (so e^-inf = 0), NaN stays NaN.
inline __m512 exp512(__m512 x) {
  const __m512 lo = _mm512_set1_ps(-87.33654f), hi = _mm512_set1_ps(88.37626f);
  const __mmask16 underflow = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
  x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));  // operand order keeps NaN
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.f)));
  const __m512i bits = _mm512_slli_epi32(
      _mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(static_cast<__mmask16>(~underflow), p, _mm512_castsi512_ps(bits));
}

// C[MR][n_valid] (row stride ldc, n_valid <= 32) = base + acc, base = C itself when
// `accumulate`, else the row vector bias (null: zeros).
template <int MR>
inline void store_tile(const __m512 (&acc)[MR][2], float* c, int64_t ldc, int n_valid,
                       bool accumulate, const float* bias) {
  const __mmask16 m[2] = {first_lanes(n_valid),
                          n_valid > 16 ? first_lanes(n_valid - 16) : static_cast<__mmask16>(0)};
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    float* ci = c + i * ldc;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      if (m[h] == 0) continue;
      const __m512 base = accumulate        ? _mm512_maskz_loadu_ps(m[h], ci + 16 * h)
                          : bias != nullptr ? _mm512_maskz_loadu_ps(m[h], bias + 16 * h)
                                            : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(ci + 16 * h, m[h], _mm512_add_ps(base, acc[i][h]));
    }
  }
}

}  // namespace
}  // namespace kantu::kernels::KANTU_AVX512_NS
