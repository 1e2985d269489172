// Matmul with block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K).
// GEMV (decode, n <= 4: one stream, or a batched step of up to 4): memory-bound, so the weights must stream at read bandwidth. The x
// rows are quantized once to int8 blocks of 32 (QuantizedActs), then each weight block is
// decoded to bytes and multiplied with integer dot products (maddubs/madd), one float FMA per
// 32 values for the block scales. Offsets (Q4_K/Q5_K mins) use the per-block sums of x.
// The float paths (f32 / bf16 activations, and the AVX2 GEMM) decode the weights first:
// decode_groups to signed bytes and scales (shared with the AVX-512 int8 GEMM's packing),
// dequantize_slice on to float32.
#include <algorithm>
#include <cmath>

#include "kernels/matmul_avx2.h"
#include "kernels/quant_avx2.h"
#include "kernels/simd_avx2.h"

namespace kantu::kernels::avx2 {
namespace {

using namespace quant;

std::vector<float>& act_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// Per-row state of the dot products: NX x rows, two accumulator chains each so that the
// FMA latency does not serialise consecutive blocks, plus the float offset terms.
template <int NX>
struct Acc {
  __m256 v[NX][2];
  __m256 offset[NX];
  float scalar_offset[NX];
  Acc() {
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      v[i][0] = v[i][1] = offset[i] = _mm256_setzero_ps();
      scalar_offset[i] = 0.f;
    }
  }
  float result(int i) const {
    return hsum(_mm256_sub_ps(_mm256_add_ps(v[i][0], v[i][1]), offset[i])) - scalar_offset[i];
  }
};

// One weight row against NX activation rows, per type.
// Q8_0 / Q4_0 rows: first the combined scale dw[b]·dx_i[b] of every block for each x row,
// eight blocks per vector op (block_scales), so the block loop only broadcasts one from L1;
// then per block one integer dot product and one FMA per x row. Q4_0 multiplies the
// unsigned nibbles: Σ (q − 8)·x = Σ q·x − 8·Σ x, with Σ x from the activation block sums
// (s = dx·Σ xq), folded into one offset per x row (both from block_scales, quant_avx2.h).
template <int NX, int U>
inline void block_q8_0(const BlockQ8_0& w, int64_t b, int64_t nb, const QuantizedActs& a,
                       const float* scales, Acc<NX>& acc) {
  const __m256i wq = load32(w.qs);
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i) {
    const __m256 p =
        _mm256_cvtepi32_ps(dot_i8_i8(wq, load32(a.q + 32 * (i * a.blocks_per_row + b))));
    acc.v[i][U] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(scales + i * nb + b), acc.v[i][U]);
  }
}

template <int NX, int U>
inline void block_q4_0(const BlockQ4_0& w, int64_t b, int64_t nb, const QuantizedActs& a,
                       const float* scales, Acc<NX>& acc) {
  const __m256i wq = unpack_nibbles(w.qs);
#pragma GCC unroll 4
  for (int i = 0; i < NX; ++i) {
    const __m256 p =
        _mm256_cvtepi32_ps(dot_u8_i8(wq, load32(a.q + 32 * (i * a.blocks_per_row + b))));
    acc.v[i][U] = _mm256_fmadd_ps(p, _mm256_broadcast_ss(scales + i * nb + b), acc.v[i][U]);
  }
}

// The two accumulator chains get constant indices, so they stay in registers.
template <int NX>
void row_q8_0(const BlockQ8_0* w, int64_t nb, const QuantizedActs& a, Acc<NX>& acc) {
  const float* scales = block_scales<NX>(w, nb, a, nb, nullptr);
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    block_q8_0<NX, 0>(w[b], b, nb, a, scales, acc);
    block_q8_0<NX, 1>(w[b + 1], b + 1, nb, a, scales, acc);
  }
  if (b < nb) block_q8_0<NX, 0>(w[b], b, nb, a, scales, acc);
}

template <int NX>
void row_q4_0(const BlockQ4_0* w, int64_t nb, const QuantizedActs& a, Acc<NX>& acc) {
  const float* scales = block_scales<NX>(w, nb, a, nb, acc.scalar_offset);
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    block_q4_0<NX, 0>(w[b], b, nb, a, scales, acc);
    block_q4_0<NX, 1>(w[b + 1], b + 1, nb, a, scales, acc);
  }
  if (b < nb) block_q4_0<NX, 0>(w[b], b, nb, a, scales, acc);
}

// Q4_K (HasHigh = false) and Q5_K (HasHigh = true): value = d·sc_j·q − dmin·m_j, so
// w·x = Σ_j d·sc_j·dx_j·(q·xq)_j − dmin·Σ_j m_j·s_j.
template <int NX, bool HasHigh, class Block>
void row_k45(const Block* w, int64_t nb, const QuantizedActs& a, Acc<NX>& acc) {
  for (int64_t sb = 0; sb < nb; ++sb) {
    const Block& blk = w[sb];
    uint64_t sc, m;
    unpack_k_scales_words(blk.scales, &sc, &m);
    const __m256 d = _mm256_set1_ps(f16(blk.d)), dmin = _mm256_set1_ps(f16(blk.dmin));
    const __m128i sc_bytes = _mm_cvtsi64_si128(static_cast<long long>(sc));
    const __m128i m_bytes = _mm_cvtsi64_si128(static_cast<long long>(m));
    const __m256 scf = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc_bytes)));
    const __m256 mf = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(m_bytes)));
    alignas(32) float scale[NX][8];
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) {
      const int64_t xb = i * a.blocks_per_row + 8 * sb;
      _mm256_store_ps(scale[i], _mm256_mul_ps(scf, _mm256_loadu_ps(a.d + xb)));
      acc.offset[i] = _mm256_fmadd_ps(mf, _mm256_loadu_ps(a.s + xb), acc.offset[i]);
    }
    __m256i high;
    if constexpr (HasHigh) high = load32(blk.qh);
#pragma GCC unroll 4
    for (int p = 0; p < 4; ++p) {
      const __m256i bytes = load32(blk.qs + 32 * p);
#pragma GCC unroll 2
      for (int half = 0; half < 2; ++half) {
        const int j = 2 * p + half;
        __m256i q = nibbles_of(bytes, 4 * half);
        if constexpr (HasHigh) {
          const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(high, j), _mm256_set1_epi8(1));
          q = _mm256_or_si256(q, _mm256_slli_epi16(bit, 4));
        }
#pragma GCC unroll 4
        for (int i = 0; i < NX; ++i) {
          const int64_t xb = i * a.blocks_per_row + 8 * sb + j;
          const __m256 prod = _mm256_cvtepi32_ps(dot_u8_i8(q, load32(a.q + 32 * xb)));
          acc.v[i][half] =
              _mm256_fmadd_ps(prod, _mm256_broadcast_ss(&scale[i][j]), acc.v[i][half]);
        }
      }
    }
  }
}

// Q6_K: value = d·sc·(q − 32) with one scale per 16 values, so each 32-value group carries
// two scales: int32 lanes 0-3 of the dot product hold its first 16 values, lanes 4-7 the rest.
template <int NX>
void row_q6_k(const BlockQ6_K* w, int64_t nb, const QuantizedActs& a, Acc<NX>& acc) {
  const __m256i k32 = _mm256_set1_epi8(32);
  for (int64_t sb = 0; sb < nb; ++sb) {
    const BlockQ6_K& blk = w[sb];
    const __m256 d = _mm256_set1_ps(f16(blk.d));
    alignas(32) float scf[16];
    for (int half = 0; half < 2; ++half) {
      const __m128i s8 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blk.scales + 8 * half));
      _mm256_store_ps(scf + 8 * half, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(s8))));
    }
    for (int h = 0; h < 2; ++h) {
      const __m256i ql_lo = load32(blk.ql + 64 * h), ql_hi = load32(blk.ql + 64 * h + 32);
      const __m256i qh = load32(blk.qh + 32 * h);
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
        const __m256i low = nibbles_of(g & 1 ? ql_hi : ql_lo, g < 2 ? 0 : 4);
        const __m256i top =
            _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), _mm256_set1_epi8(3));
        const __m256i q = _mm256_or_si256(low, _mm256_slli_epi16(top, 4));
        const int G = 4 * h + g;
        const __m256 sv = _mm256_set_m128(_mm_broadcast_ss(&scf[2 * G + 1]),
                                          _mm_broadcast_ss(&scf[2 * G]));
#pragma GCC unroll 4
        for (int i = 0; i < NX; ++i) {
          const int64_t xb = i * a.blocks_per_row + 8 * sb + G;
          const __m256i xq = load32(a.q + 32 * xb);
          // (q − 32)·x as q·x − 32·x: both unsigned·signed products fit int16.
          const __m256i p16 =
              _mm256_sub_epi16(_mm256_maddubs_epi16(q, xq), _mm256_maddubs_epi16(k32, xq));
          const __m256 prod = _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
          acc.v[i][g & 1] = _mm256_fmadd_ps(_mm256_mul_ps(prod, sv), _mm256_set1_ps(a.d[xb]),
                                            acc.v[i][g & 1]);
        }
      }
    }
  }
}

template <int NX>
void gemv_rows(const WeightMatrix& w, const QuantizedActs& a, const float* bias, float* y,
               int64_t r0, int64_t r1) {
  const size_t row_bytes = dtype_bytes(w.dtype, w.cols);
  const int64_t nb = w.cols / dtype_block_elems(w.dtype);
  for (int64_t r = r0; r < r1; ++r) {
    const void* row = static_cast<const uint8_t*>(w.data) + r * row_bytes;
    // One row at a time is one sequential stream, which the hardware prefetcher alone
    // keeps at about half the read bandwidth: ask for row r + 2 now.
    if (r + 2 < r1) {
      const char* next = static_cast<const char*>(row) + 2 * row_bytes;
      for (size_t off = 0; off < row_bytes; off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
    }
    Acc<NX> acc;
    switch (w.dtype) {
      case DType::kQ8_0:
        row_q8_0<NX>(static_cast<const BlockQ8_0*>(row), nb, a, acc);
        break;
      case DType::kQ4_0:
        row_q4_0<NX>(static_cast<const BlockQ4_0*>(row), nb, a, acc);
        break;
      case DType::kQ4_K:
        row_k45<NX, false>(static_cast<const BlockQ4_K*>(row), nb, a, acc);
        break;
      case DType::kQ5_K:
        row_k45<NX, true>(static_cast<const BlockQ5_K*>(row), nb, a, acc);
        break;
      default:
        row_q6_k<NX>(static_cast<const BlockQ6_K*>(row), nb, a, acc);
        break;
    }
#pragma GCC unroll 4
    for (int i = 0; i < NX; ++i) y[i * w.rows + r] = acc.result(i) + (bias ? bias[r] : 0.f);
  }
}

// Stores 32 signed bytes as floats: out[l] = scale_lo/hi[l] * q[l] + offset; scale_lo
// applies to the first 16 values, scale_hi to the last 16.
void store_block(__m256i q, __m256 scale_lo, __m256 scale_hi, __m256 offset, float* out) {
  const __m128i halves[2] = {_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)};
  for (int h = 0; h < 2; ++h) {
    const __m256 s = h == 0 ? scale_lo : scale_hi;
    for (int e = 0; e < 2; ++e) {
      const __m128i b8 = e == 0 ? halves[h] : _mm_srli_si128(halves[h], 8);
      const __m256i v = _mm256_cvtepi8_epi32(b8);
      _mm256_storeu_ps(out + 16 * h + 8 * e, _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(v), offset));
    }
  }
}

}  // namespace

QuantizedActs quantize_acts(const float* x, int64_t n, int64_t cols) {
  const int64_t nb = cols / kQ32;
  // Layout in one float buffer: d[n*nb], s[n*nb], then the bytes (n*cols, 32-aligned).
  const size_t n_blocks = static_cast<size_t>(n * nb);
  float* base = aligned_scratch(act_buffer(), 2 * n_blocks + static_cast<size_t>(n * cols) / 4 + 8);
  float* d = base;
  float* s = base + n_blocks;
  int8_t* q = reinterpret_cast<int8_t*>(base + (2 * n_blocks + 7) / 8 * 8);
  const __m256 sign_mask = _mm256_set1_ps(-0.f);
  for (int64_t b = 0; b < n * nb; ++b) {
    const float* xb = x + 32 * b;  // rows are whole blocks, so blocks are contiguous
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; ++k) {
      v[k] = _mm256_loadu_ps(xb + 8 * k);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[k]));
    }
    const float m = hmax(amax);
    const float db = m / 127.f;
    const __m256 id = _mm256_set1_ps(m > 0.f ? 127.f / m : 0.f);
    __m256i iv[4];
    for (int k = 0; k < 4; ++k)
      iv[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], id),
                                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i sum4 = _mm256_add_epi32(_mm256_add_epi32(iv[0], iv[1]),
                                          _mm256_add_epi32(iv[2], iv[3]));
    // packs interleaves the 128-bit lanes; the permute puts the 32 bytes back in order.
    const __m256i w16a = _mm256_packs_epi32(iv[0], iv[1]);
    const __m256i w16b = _mm256_packs_epi32(iv[2], iv[3]);
    const __m256i w8 = _mm256_packs_epi16(w16a, w16b);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 32 * b),
                       _mm256_permutevar8x32_epi32(w8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    d[b] = db;
    s[b] = db * hsum(_mm256_cvtepi32_ps(sum4));
  }
  return QuantizedActs{nb, d, s, q};
}

void gemv_quant(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  const QuantizedActs a = quantize_acts(x, n, w.cols);
  auto run = [&](int64_t r0, int64_t r1) {
    switch (n) {
      case 1:
        return gemv_rows<1>(w, a, bias, y, r0, r1);
      case 2:
        return gemv_rows<2>(w, a, bias, y, r0, r1);
      case 3:
        return gemv_rows<3>(w, a, bias, y, r0, r1);
      default:
        return gemv_rows<4>(w, a, bias, y, r0, r1);
    }
  };
  if (pool == nullptr || pool->size() == 1 ||
      static_cast<int64_t>(dtype_bytes(w.dtype, w.cols)) * w.rows < 64 * 1024) {
    run(0, w.rows);
    return;
  }
  pool->parallel_ranges(w.rows, run, 8);
}

void decode_groups(const WeightMatrix& w, int64_t row, int64_t k0, int64_t kc, int8_t* q,
                   float* scale, float* min) {
  const int64_t be = dtype_block_elems(w.dtype);
  const uint8_t* base = static_cast<const uint8_t*>(w.data) + row * dtype_bytes(w.dtype, w.cols) +
                        dtype_bytes(w.dtype, k0);
  const size_t block_bytes = dtype_block_bytes(w.dtype);  // not inline: keep it out of the loop
  auto store = [&](int64_t g, __m256i bytes, float s0, float s1, float m) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * g), bytes);
    scale[2 * g] = s0;
    scale[2 * g + 1] = s1;
    min[g] = m;
  };
  for (int64_t b = 0; b < kc / be; ++b) {
    const uint8_t* blk = base + b * block_bytes;
    const int64_t g0 = b * be / 32;  // the block's first group
    switch (w.dtype) {
      case DType::kQ8_0: {
        const auto& q8 = *reinterpret_cast<const BlockQ8_0*>(blk);
        const float d = f16(q8.d);
        store(g0, load32(q8.qs), d, d, 0.f);
        break;
      }
      case DType::kQ4_0: {
        const auto& q4 = *reinterpret_cast<const BlockQ4_0*>(blk);
        const float d = f16(q4.d);
        store(g0, _mm256_sub_epi8(unpack_nibbles(q4.qs), _mm256_set1_epi8(8)), d, d, 0.f);
        break;
      }
      case DType::kQ4_K:
      case DType::kQ5_K: {
        const bool q5 = w.dtype == DType::kQ5_K;
        const auto& k4 = *reinterpret_cast<const BlockQ4_K*>(blk);
        const auto& k5 = *reinterpret_cast<const BlockQ5_K*>(blk);
        const uint8_t* qs = q5 ? k5.qs : k4.qs;
        uint8_t sc[8], m[8];
        unpack_k_scales(k4.scales, sc, m);  // same offset in both layouts
        const float d = f16(k4.d), dmin = f16(k4.dmin);
        const __m256i high = q5 ? load32(k5.qh) : _mm256_setzero_si256();
        for (int j = 0; j < 8; ++j) {
          const __m256i bit = _mm256_and_si256(_mm256_srli_epi16(high, j), _mm256_set1_epi8(1));
          const __m256i v = _mm256_or_si256(nibbles_of(load32(qs + 32 * (j / 2)), 4 * (j % 2)),
                                            _mm256_slli_epi16(bit, 4));
          store(g0 + j, v, d * sc[j], d * sc[j], dmin * m[j]);
        }
        break;
      }
      default: {
        const auto& k6 = *reinterpret_cast<const BlockQ6_K*>(blk);
        const float d = f16(k6.d);
        for (int h = 0; h < 2; ++h) {
          const __m256i qh = load32(k6.qh + 32 * h);
          for (int g = 0; g < 4; ++g) {
            const __m256i low = nibbles_of(load32(k6.ql + 64 * h + 32 * (g & 1)), g < 2 ? 0 : 4);
            const __m256i top =
                _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), _mm256_set1_epi8(3));
            const __m256i v = _mm256_sub_epi8(_mm256_or_si256(low, _mm256_slli_epi16(top, 4)),
                                              _mm256_set1_epi8(32));
            const int s = 8 * h + 2 * g;
            store(g0 + 4 * h + g, v, d * k6.scales[s], d * k6.scales[s + 1], 0.f);
          }
        }
        break;
      }
    }
  }
}

void dequantize_slice(const WeightMatrix& w, int64_t row, int64_t k0, int64_t kc, float* out) {
  // A super-block (or 8 small blocks) at a time, decoded to bytes in L1 and then scaled.
  alignas(32) int8_t q[quant::kQK];
  float scale[quant::kQK / 16], min[quant::kQK / 32];
  for (int64_t c = 0; c < kc; c += quant::kQK) {
    const int64_t len = std::min<int64_t>(quant::kQK, kc - c);
    decode_groups(w, row, k0 + c, len, q, scale, min);
    for (int64_t g = 0; g < len / 32; ++g)
      store_block(load32(q + 32 * g), _mm256_set1_ps(scale[2 * g]),
                        _mm256_set1_ps(scale[2 * g + 1]), _mm256_set1_ps(-min[g]),
                        out + c + 32 * g);
  }
}

}  // namespace kantu::kernels::avx2
