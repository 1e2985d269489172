// The AVX-512 decode GEMV for block-quantized weights (n <= 4 x rows), shared by the two
// instruction variants: matmul_quant_avx512.cpp (AVX-512 BW: maddubs + madd) and
// matmul_quant_vnni_avx512.cpp (VNNI: one vpdpbusd). Each defines the Dot policy and
// includes this file after its KANTU_AVX512_TARGET line; everything here has internal
// linkage, so each variant keeps its own copy compiled for its own instructions.
//
// The plan is matmul_quant_avx2.cpp's (x rows quantized once to int8 blocks of 32, integer
// dot products per block, one float FMA per block for the scales, offsets from the block
// sums of x), with two 32-value blocks per 512-bit register: 16 int32 lanes, lanes 0-7
// the first block, 8-15 the second, so one register of per-lane scales applies both.
#pragma once

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

using avx2::QuantizedActs;
using namespace quant;

inline __m512i both_halves(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
inline __m512i low_half_only(__m256i lo) {
  return _mm512_inserti64x4(_mm512_setzero_si512(), lo, 0);
}
// 16 lanes of f[k] for lanes of block k (k = lane / 8), from two consecutive floats.
inline __m512 pair_scales(const float* f) {
  const __m128 two = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(f)));
  return _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                               _mm512_castps128_ps512(two));
}
// Lanes 0-7 = v[j], lanes 8-15 = v[j + 1] (v: 8 floats in the low half).
inline __m512 pair_of(__m512 v, int j) {
  const __m512i idx = _mm512_add_epi32(
      _mm512_set1_epi32(j), _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
  return _mm512_permutexvar_ps(idx, v);
}

// x row i's bytes of blocks b and b + 1 (both exist: callers pass b + 1 < blocks_per_row
// or read the lone last block with low_x).
inline __m512i pair_x(const QuantizedActs& a, int i, int64_t b) {
  return _mm512_loadu_si512(a.q + 32 * (i * a.blocks_per_row + b));
}
inline __m512i low_x(const QuantizedActs& a, int i, int64_t b) {
  return low_half_only(_mm256_loadu_si256(
      reinterpret_cast<const __m256i*>(a.q + 32 * (i * a.blocks_per_row + b))));
}

template <int NX>
struct Acc512 {
  __m512 v[NX][2];
  __m256 offset[NX];      // K-quant mins, 8 groups per vector
  float scalar_offset[NX];  // Q4_0's 8·Σ x
  Acc512() {
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      v[i][0] = v[i][1] = _mm512_setzero_ps();
      offset[i] = _mm256_setzero_ps();
      scalar_offset[i] = 0.f;
    }
  }
  float result(int i) const {
    return _mm512_reduce_add_ps(_mm512_add_ps(v[i][0], v[i][1])) - avx2::hsum(offset[i]) -
           scalar_offset[i];
  }
};

// Q8_0: signed weights; the unsigned side of the dot product is |w| and w's sign moves onto
// x (|-128| = 128 is still right as an unsigned byte).
template <class Dot, int NX>
void row_q8_0(const BlockQ8_0* w, int64_t nb, const QuantizedActs& a, Acc512<NX>& acc) {
  // Row stride nb + 1, the extra scale 0: a lone last block reads a finite partner scale.
  const float* scales = avx2::block_scales<NX>(w, nb, a, nb + 1, nullptr);
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; b += 2) {
    const bool pair = b + 1 < nb;
    const __m256i lo = avx2::load32(w[b].qs);
    const __m512i wq = pair ? both_halves(lo, avx2::load32(w[b + 1].qs)) : low_half_only(lo);
    const __m512i wabs = _mm512_abs_epi8(wq);
    const __mmask64 negative = _mm512_movepi8_mask(wq);
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      const __m512i x = pair ? pair_x(a, i, b) : low_x(a, i, b);
      const __m512i xs = _mm512_mask_sub_epi8(x, negative, zero, x);
      const __m512 p = _mm512_cvtepi32_ps(Dot::dot(zero, wabs, xs));
      const int u = static_cast<int>((b >> 1) & 1);
      acc.v[i][u] = _mm512_fmadd_ps(p, pair_scales(scales + i * (nb + 1) + b), acc.v[i][u]);
    }
  }
}

// Q4_0: unsigned nibbles q, Σ (q − 8)·x = Σ q·x − 8·Σ x (the offset from block_scales).
template <class Dot, int NX>
void row_q4_0(const BlockQ4_0* w, int64_t nb, const QuantizedActs& a, Acc512<NX>& acc) {
  const float* scales = avx2::block_scales<NX>(w, nb, a, nb + 1, acc.scalar_offset);
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; b += 2) {
    const bool pair = b + 1 < nb;
    const __m256i lo = avx2::unpack_nibbles(w[b].qs);
    const __m512i q = pair ? both_halves(lo, avx2::unpack_nibbles(w[b + 1].qs)) : low_half_only(lo);
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      const __m512i x = pair ? pair_x(a, i, b) : low_x(a, i, b);
      const __m512 p = _mm512_cvtepi32_ps(Dot::dot(zero, q, x));
      const int u = static_cast<int>((b >> 1) & 1);
      acc.v[i][u] = _mm512_fmadd_ps(p, pair_scales(scales + i * (nb + 1) + b), acc.v[i][u]);
    }
  }
}

// Q4_K (HasHigh = false) and Q5_K: value = d·sc_j·q − dmin·m_j per group j of 32. Byte
// vector p of qs holds group 2p in its low nibbles and 2p + 1 in its high ones: one
// register of both is the two groups in x's order.
template <class Dot, int NX, bool HasHigh, class Block>
void row_k45(const Block* w, int64_t nb, const QuantizedActs& a, Acc512<NX>& acc) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int64_t sb = 0; sb < nb; ++sb) {
    const Block& blk = w[sb];
    uint64_t sc, m;
    unpack_k_scales_words(blk.scales, &sc, &m);
    const __m256 d = _mm256_set1_ps(avx2::f16(blk.d)), dmin = _mm256_set1_ps(avx2::f16(blk.dmin));
    const __m256 scf =
        _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(sc)))));
    const __m256 mf =
        _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(m)))));
    __m512 scale[NX];
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      const int64_t xb = i * a.blocks_per_row + 8 * sb;
      scale[i] = _mm512_castps256_ps512(_mm256_mul_ps(scf, _mm256_loadu_ps(a.d + xb)));
      acc.offset[i] = _mm256_fmadd_ps(mf, _mm256_loadu_ps(a.s + xb), acc.offset[i]);
    }
    __m512i high;
    if constexpr (HasHigh) high = _mm512_broadcast_i64x4(avx2::load32(blk.qh));
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      const __m256i bytes = avx2::load32(blk.qs + 32 * p);
      __m512i q = _mm512_and_si512(both_halves(bytes, _mm256_srli_epi16(bytes, 4)), low4);
      if constexpr (HasHigh) {
        // Group j's fifth bit is bit j of qh: bit 2p for the low half, 2p + 1 for the high.
        const __m512i shift = both_halves(_mm256_set1_epi16(static_cast<short>(2 * p)),
                                          _mm256_set1_epi16(static_cast<short>(2 * p + 1)));
        const __m512i bit = _mm512_and_si512(_mm512_srlv_epi16(high, shift), _mm512_set1_epi8(1));
        q = _mm512_or_si512(q, _mm512_slli_epi16(bit, 4));
      }
#pragma GCC unroll 4
      for (int i = 0; i < NX; ++i) {
        const __m512 prod = _mm512_cvtepi32_ps(Dot::dot(zero, q, pair_x(a, i, 8 * sb + 2 * p)));
        acc.v[i][p & 1] = _mm512_fmadd_ps(prod, pair_of(scale[i], 2 * p), acc.v[i][p & 1]);
      }
    }
  }
}

// Q6_K: value = d·sc·(q − 32), one scale per 16 values: int32 lanes 4k..4k+3 of a pair's
// dot product are its values 16k..16k+15, so the scale register holds 4 scales, 4 lanes each.
template <class Dot, int NX>
void row_q6_k(const BlockQ6_K* w, int64_t nb, const QuantizedActs& a, Acc512<NX>& acc) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i k32 = _mm512_set1_epi8(32);
  const __m512i low4 = _mm512_set1_epi8(0x0F), low2 = _mm512_set1_epi8(3);
  // Scale s belongs to group s / 2: lane s of the dx register is dx[s / 2].
  const __m512i dx_of_scale = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
  for (int64_t sb = 0; sb < nb; ++sb) {
    const BlockQ6_K& blk = w[sb];
    const __m512 scf = _mm512_mul_ps(
        _mm512_set1_ps(avx2::f16(blk.d)),
        _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales)))));
    __m512 scale[NX];  // lane s: d·sc_s·dx of its group
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      const __m512 dx = _mm512_castps256_ps512(_mm256_loadu_ps(a.d + i * a.blocks_per_row + 8 * sb));
      scale[i] = _mm512_mul_ps(scf, _mm512_permutexvar_ps(dx_of_scale, dx));
    }
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = _mm512_loadu_si512(blk.ql + 64 * h);  // [groups 4h, 4h+1 low bits]
      const __m512i qh = _mm512_broadcast_i64x4(avx2::load32(blk.qh + 32 * h));
#pragma GCC unroll 2
      for (int gp = 0; gp < 2; ++gp) {
        // Groups G = 4h + 2gp and G + 1: low nibbles (gp 0) or high nibbles (gp 1) of ql;
        // top bits at 2·(2gp) and 2·(2gp + 1) of qh.
        const __m512i low = _mm512_and_si512(_mm512_srli_epi16(ql, 4 * gp), low4);
        const __m512i shift = both_halves(_mm256_set1_epi16(static_cast<short>(4 * gp)),
                                          _mm256_set1_epi16(static_cast<short>(4 * gp + 2)));
        const __m512i top = _mm512_and_si512(_mm512_srlv_epi16(qh, shift), low2);
        const __m512i q = _mm512_or_si512(low, _mm512_slli_epi16(top, 4));
        const int G = 4 * h + 2 * gp;
        const __m512i scale_idx = _mm512_set_epi32(
            2 * G + 3, 2 * G + 3, 2 * G + 3, 2 * G + 3, 2 * G + 2, 2 * G + 2, 2 * G + 2, 2 * G + 2,
            2 * G + 1, 2 * G + 1, 2 * G + 1, 2 * G + 1, 2 * G, 2 * G, 2 * G, 2 * G);
#pragma GCC unroll 4
        for (int i = 0; i < NX; ++i) {
          const __m512i x = pair_x(a, i, 8 * sb + G);
          // (q − 32)·x as q·x − 32·x: both unsigned·signed.
          const __m512i p = _mm512_sub_epi32(Dot::dot(zero, q, x), Dot::dot(zero, k32, x));
          acc.v[i][gp] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p),
                                         _mm512_permutexvar_ps(scale_idx, scale[i]), acc.v[i][gp]);
        }
      }
    }
  }
}

template <class Dot, int NX>
void quant_gemv_rows(const WeightMatrix& w, const QuantizedActs& a, const float* bias, float* y,
                     int64_t r0, int64_t r1) {
  const size_t row_bytes = dtype_bytes(w.dtype, w.cols);
  const int64_t nb = w.cols / dtype_block_elems(w.dtype);
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = static_cast<const uint8_t*>(w.data) + r * row_bytes;
    // As in the AVX2 GEMV: one row is one sequential stream; ask for row r + 2 now.
    if (r + 2 < r1) {
      const char* next = static_cast<const char*>(row) + 2 * row_bytes;
      for (size_t off = 0; off < row_bytes; off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
    }
    Acc512<NX> acc;
    switch (w.dtype) {
      case DType::kQ8_0:
        row_q8_0<Dot, NX>(static_cast<const BlockQ8_0*>(row), nb, a, acc);
        break;
      case DType::kQ4_0:
        row_q4_0<Dot, NX>(static_cast<const BlockQ4_0*>(row), nb, a, acc);
        break;
      case DType::kQ4_K:
        row_k45<Dot, NX, false>(static_cast<const BlockQ4_K*>(row), nb, a, acc);
        break;
      case DType::kQ5_K:
        row_k45<Dot, NX, true>(static_cast<const BlockQ5_K*>(row), nb, a, acc);
        break;
      default:
        row_q6_k<Dot, NX>(static_cast<const BlockQ6_K*>(row), nb, a, acc);
        break;
    }
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) y[i * w.rows + r] = acc.result(i) + (bias ? bias[r] : 0.f);
  }
}

// y[n][rows] = x[n][cols] · wᵀ (+ bias) for quantized w and 1 <= n <= 4.
template <class Dot>
void quant_gemv(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  const QuantizedActs a = avx2::quantize_acts(x, n, w.cols);
  auto run = [&](int64_t r0, int64_t r1) {
    switch (n) {
      case 1:
        return quant_gemv_rows<Dot, 1>(w, a, bias, y, r0, r1);
      case 2:
        return quant_gemv_rows<Dot, 2>(w, a, bias, y, r0, r1);
      case 3:
        return quant_gemv_rows<Dot, 3>(w, a, bias, y, r0, r1);
      default:
        return quant_gemv_rows<Dot, 4>(w, a, bias, y, r0, r1);
    }
  };
  if (pool == nullptr || pool->size() == 1 ||
      static_cast<int64_t>(dtype_bytes(w.dtype, w.cols)) * w.rows < 64 * 1024) {
    run(0, w.rows);
    return;
  }
  pool->parallel_ranges(w.rows, run, 8);
}

}  // namespace
}  // namespace kantu::kernels::KANTU_AVX512_NS
