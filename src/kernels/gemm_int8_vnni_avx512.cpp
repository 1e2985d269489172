// The AVX-512 VNNI GEMM: block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) times x
// quantized to int8 blocks of 32 (int8 activations), n >= 4 x rows. vpdpbusd multiplies 64
// byte pairs and sums each 4 into an int32 lane: 64 multiply-adds per instruction where a
// float FMA does 16.
//
// Integer form: every weight type decodes (decode_groups) to signed bytes w with a float
// scale per 32 values (per 16 for Q6_K) and, for Q4_K/Q5_K, a min per 32; x to bytes
// xq = round(x / dx) per block of 32, stored unsigned as xq + 128 (vpdpbusd wants one
// unsigned side). Per sub-block of S values (S = 32, or 16 for Q6_K) and column j:
//   Σ x·value = dx·scale_j·Σ (xq + 128)·w − dx·scale_j·128·Σ w − min_j·Σ x
// The int32 sums start from the panel's correction −128·Σ w, so the offset costs nothing;
// then one convert, one multiply (scale_j·dx) and one FMA per sub-block fold them into the
// float accumulators, and Q4_K/Q5_K subtract min_j·Σ x (from the x block sums).
//
// The blocked loop of gemm_driver.h with a 6 x 32 register tile (12 int32 + 12 float
// accumulators): per 4 columns, 2 panel loads and 6 broadcasts of an x word feed 12
// vpdpbusd. Panels: per sub-block, [S/4][32] words of 4 weight bytes, then the 32 scales,
// corrections and mins. Packed x per group of rows: per block of 32, [8][mr] words of 4 x
// bytes, then the mr scales dx and block sums Σ x.
// A file of its own so that only this code may contain VNNI instructions.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/avx512.h"
#include "kernels/matmul_avx2.h"
#include "kernels/quant_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl,avx512vnni")

// After the target line: their code (internal linkage) is compiled for these instructions.
#include "kernels/gemm_driver.h"
#include "kernels/simd_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr int kMr = 6;   // x rows per register tile
constexpr int kNr = 32;  // weight rows per panel: two zmm per 4 columns
constexpr int64_t kXBlockBytes = 40;  // per x row and block of 32: 32 bytes, dx, Σ x

// Bytes of one panel sub-block of S columns: the weight words, then scale, correction and
// min of each of the 32 rows.
template <int S>
constexpr int64_t sub_block_bytes() {
  return 32 * S + 3 * 32 * 4;
}

// C[MR][n_valid] = base + x · P over kc columns. xa: the group's packed x at the slice's
// first block; p: the panel.
template <int MR, int S, bool HasMin>
void tile(const uint8_t* xa, const uint8_t* p, int64_t kc, float* c, int64_t ldc, int n_valid,
          bool accumulate, const float* bias) {
  constexpr int kQuads = S / 4;
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < kc / S; ++sb) {
    const uint8_t* blk = p + sb * sub_block_bytes<S>();
    const uint8_t* xb = xa + (sb * S / 32) * kXBlockBytes * MR;
    const auto* xq = reinterpret_cast<const int32_t*>(xb) + (sb * S % 32) / 4 * MR;
    const auto* dx = reinterpret_cast<const float*>(xb + 32 * MR);
    const float* sum_x = dx + MR;
    const auto* tail = reinterpret_cast<const float*>(blk + 32 * S);  // scale, corr, min
    __m512i isum[MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      isum[i][0] = _mm512_load_si512(tail + 32);
      isum[i][1] = _mm512_load_si512(tail + 48);
    }
#pragma GCC unroll 8
    for (int q = 0; q < kQuads; ++q) {
      const __m512i b0 = _mm512_load_si512(blk + 128 * q);
      const __m512i b1 = _mm512_load_si512(blk + 128 * q + 64);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m512i a = _mm512_set1_epi32(xq[q * MR + i]);
        isum[i][0] = _mm512_dpbusd_epi32(isum[i][0], a, b0);
        isum[i][1] = _mm512_dpbusd_epi32(isum[i][1], a, b1);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 d = _mm512_set1_ps(dx[i]);
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        const __m512 scale = _mm512_mul_ps(_mm512_load_ps(tail + 16 * h), d);
        acc[i][h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[i][h]), scale, acc[i][h]);
        if constexpr (HasMin)
          acc[i][h] = _mm512_fnmadd_ps(_mm512_load_ps(tail + 64 + 16 * h), _mm512_set1_ps(sum_x[i]),
                                       acc[i][h]);
      }
    }
  }
  store_tile<MR>(acc, c, ldc, n_valid, accumulate, bias);
}

template <int S, bool HasMin, int MR = kMr>
void run_tile(int mr, const uint8_t* xa, const uint8_t* p, int64_t kc, float* c, int64_t ldc,
              int n_valid, bool accumulate, const float* bias) {
  if constexpr (MR > 1) {
    if (mr < MR)
      return run_tile<S, HasMin, MR - 1>(mr, xa, p, kc, c, ldc, n_valid, accumulate, bias);
  }
  tile<MR, S, HasMin>(xa, p, kc, c, ldc, n_valid, accumulate, bias);
}

struct DecodedRows {
  std::vector<int8_t> q;
  std::vector<float> scale, min;
};

DecodedRows& decoded_rows() {
  thread_local DecodedRows rows;
  return rows;
}

// S: values per scale (16 for Q6_K, else 32); HasMin: Q4_K / Q5_K.
template <int S, bool HasMin>
struct Int8Tile {
  static constexpr int64_t kMr = ::kantu::kernels::KANTU_AVX512_NS::kMr;
  static constexpr int64_t kNr = ::kantu::kernels::KANTU_AVX512_NS::kNr;
  static constexpr int64_t kKc = 512;   // a multiple of 256 (K-quant super-blocks); 22 KB panels
  static constexpr int64_t kNc = 128;   // weight rows per task
  static constexpr int64_t kMc = 1024;  // each weight decoded and packed once per 1024 x rows

  struct PackedX {
    const uint8_t* data;  // group g of kMr rows at g * kMr * blocks * 40 bytes
    int64_t blocks;       // per row
  };
  static PackedX pack_x(const float* x, int64_t n, int64_t cols, ThreadPool* pool) {
    struct Tag;
    const int64_t nb = cols / 32;
    uint8_t* xp = reinterpret_cast<uint8_t*>(
        aligned_bytes<Tag>(static_cast<size_t>(n * nb * kXBlockBytes)));
    for_row_groups(n, kMr, pool, [&](int64_t g) {
      const int64_t mr = std::min<int64_t>(kMr, n - g * kMr);
      uint8_t* group = xp + g * kMr * nb * kXBlockBytes;
      for (int64_t i = 0; i < mr; ++i) {
        // The GEMVs' quantizer (per-thread scratch, one row at a time): both paths give x
        // the same int8 values.
        const avx2::QuantizedActs a = avx2::quantize_acts(x + (g * kMr + i) * cols, 1, cols);
        for (int64_t b = 0; b < nb; ++b) {
          uint8_t* blk = group + b * kXBlockBytes * mr;
          for (int q = 0; q < 8; ++q) {
            uint32_t word;
            std::memcpy(&word, a.q + 32 * b + 4 * q, 4);
            word ^= 0x80808080u;  // + 128 in every byte: unsigned for vpdpbusd
            std::memcpy(blk + 4 * (q * mr + i), &word, 4);
          }
          std::memcpy(blk + 32 * mr + 4 * i, a.d + b, 4);
          std::memcpy(blk + 36 * mr + 4 * i, a.s + b, 4);
        }
      }
    });
    return {xp, nb};
  }

  static size_t panel_bytes(int64_t kc) { return static_cast<size_t>(kc / S * sub_block_bytes<S>()); }

  static void pack_panel(const WeightMatrix& w, int64_t r, int n_valid, int64_t k0, int64_t kc,
                         void* dst) {
    DecodedRows& d = decoded_rows();
    d.q.resize(static_cast<size_t>(kNr * kc));
    d.scale.resize(static_cast<size_t>(kNr * kc / 16));
    d.min.resize(static_cast<size_t>(kNr * kc / 32));
    // Rows past n_valid decode as zeros: their products, corrections and mins are 0.
    std::fill(d.q.begin() + n_valid * kc, d.q.end(), int8_t{0});
    std::fill(d.scale.begin() + n_valid * kc / 16, d.scale.end(), 0.f);
    std::fill(d.min.begin() + n_valid * kc / 32, d.min.end(), 0.f);
    for (int j = 0; j < n_valid; ++j)
      avx2::decode_groups(w, r + j, k0, kc, d.q.data() + j * kc, d.scale.data() + j * kc / 16,
                          d.min.data() + j * kc / 32);
    auto* panel = static_cast<uint8_t*>(dst);
    // Weight words: 16 rows x 64 columns (16 words each) per transpose.
    for (int h = 0; h < 2; ++h) {
      for (int64_t k = 0; k < kc; k += 64) {
        __m512i v[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j)
          v[j] = _mm512_maskz_loadu_epi16(
              static_cast<__mmask32>(kc - k >= 64 ? ~0u : 0xFFFFu),  // kc is whole blocks of 32
              d.q.data() + (16 * h + j) * kc + k);
        transpose16(v);
        for (int t = 0; t < 16 && k + 4 * t < kc; ++t) {
          const int64_t word = (k + 4 * t) / 4;  // which 4 columns
          uint8_t* at = panel + word / (S / 4) * sub_block_bytes<S>() + word % (S / 4) * 128 + 64 * h;
          _mm512_store_si512(at, v[t]);
        }
      }
    }
    // Per sub-block: scales, −128 · Σ w (vpdpbusd of 128s with the stored words), mins.
    const __m512i k128 = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int64_t sb = 0; sb < kc / S; ++sb) {
      uint8_t* blk = panel + sb * sub_block_bytes<S>();
      auto* tail = reinterpret_cast<float*>(blk + 32 * S);
      for (int j = 0; j < kNr; ++j) {
        tail[j] = d.scale[static_cast<size_t>(j * kc / 16 + sb * S / 16)];
        tail[64 + j] = HasMin ? d.min[static_cast<size_t>(j * kc / 32 + sb * S / 32)] : 0.f;
      }
      for (int h = 0; h < 2; ++h) {
        __m512i sum = _mm512_setzero_si512();
        for (int q = 0; q < S / 4; ++q)
          sum = _mm512_dpbusd_epi32(sum, k128, _mm512_load_si512(blk + 128 * q + 64 * h));
        _mm512_store_si512(tail + 32 + 16 * h, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
      }
    }
  }

  static void run(int mr, const PackedX& xp, int64_t i, int64_t k0, int64_t kc, const void* panel,
                  float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
    const uint8_t* xa = xp.data + (i * xp.blocks + k0 / 32 * mr) * kXBlockBytes;
    run_tile<S, HasMin>(mr, xa, static_cast<const uint8_t*>(panel), kc, c, ldc, n_valid,
                        accumulate, bias);
  }
};

}  // namespace

void gemm_int8_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                    float* y, ThreadPool* pool) {
  switch (w.dtype) {
    case DType::kQ4_K:
    case DType::kQ5_K:
      return blocked_gemm<Int8Tile<32, true>>(x, n, w, bias, y, pool);
    case DType::kQ6_K:
      return blocked_gemm<Int8Tile<16, false>>(x, n, w, bias, y, pool);
    default:
      return blocked_gemm<Int8Tile<32, false>>(x, n, w, bias, y, pool);
  }
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
