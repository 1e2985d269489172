// The AVX-512 BF16 GEMM: BF16 weights times x rounded to bf16 (bf16 activations), n >= 4 x
// rows. vdpbf16ps multiplies 16 pairs of bf16 per register and adds each pair into a float32
// lane: 32 multiply-adds per instruction where an FMA does 16, and the weights are used as
// stored (no widening to float32 when packing, half the panel bytes).
// The blocked loop of gemm_driver.h with a 12 x 32 register tile (24 zmm accumulators): per
// pair of columns k, 2 panel loads and 12 broadcasts of an x pair feed 24 dot products.
// Panels hold 32 weight rows as [k/2][32] pairs (32-bit words: one row's bf16 k and k + 1),
// packed x as [k/2][mr] pairs per group of rows: both are 16x16 transposes of 32-bit words.
// A file of its own so that only this code may contain AVX-512 BF16 instructions.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <vector>

#include "kernels/avx512.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl,avx512bf16")

// After the target line: their code (internal linkage) is compiled for these instructions.
#include "kernels/gemm_driver.h"
#include "kernels/simd_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr int kMr = 12;  // x rows per register tile
constexpr int kNr = 32;  // weight rows per panel: two zmm per pair of columns

inline __mmask32 first_halves(int64_t n) {
  return n >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << n) - 1u);
}
inline int64_t pairs(int64_t k) { return (k + 1) / 2; }

// C[MR][n_valid] = base + A · P over kp pairs of columns: A packed [kp][MR] pairs, P the
// panel [kp][32] pairs.
template <int MR>
void tile(const uint32_t* a, const uint32_t* p, int64_t kp, float* c, int64_t ldc, int n_valid,
          bool accumulate, const float* bias) {
  __m512 acc[MR][2];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kp; ++k) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(p + k * kNr);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(p + k * kNr + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[k * MR + i]));
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], av, b0);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], av, b1);
    }
  }
  store_tile<MR>(acc, c, ldc, n_valid, accumulate, bias);
}

template <int MR = kMr>
void run_tile(int mr, const uint32_t* a, const uint32_t* p, int64_t kp, float* c, int64_t ldc,
              int n_valid, bool accumulate, const float* bias) {
  if constexpr (MR > 1) {
    if (mr < MR) return run_tile<MR - 1>(mr, a, p, kp, c, ldc, n_valid, accumulate, bias);
  }
  tile<MR>(a, p, kp, c, ldc, n_valid, accumulate, bias);
}

struct Bf16Tile {
  static constexpr int64_t kMr = ::kantu::kernels::KANTU_AVX512_NS::kMr;
  static constexpr int64_t kNr = ::kantu::kernels::KANTU_AVX512_NS::kNr;
  static constexpr int64_t kKc = 512;   // a panel is 32 KB: in L1 (48 KB on Zen 5)
  static constexpr int64_t kNc = 128;   // weight rows per task: 128 KB of panels, in L2
  static constexpr int64_t kMc = 1024;  // each weight packed once per 1024 x rows

  struct PackedX {
    const uint32_t* data;  // group g of kMr rows at g * kMr * pairs(cols): [pairs][mr]
    int64_t cols;
  };
  // x rounded to bf16 (nearest even, as vcvtne2ps2bf16 does), in column pairs.
  static PackedX pack_x(const float* x, int64_t n, int64_t cols, ThreadPool* pool) {
    struct Tag;
    const int64_t kp = pairs(cols);
    auto* xp = reinterpret_cast<uint32_t*>(aligned_bytes<Tag>(static_cast<size_t>(n * kp) * 4));
    for_row_groups(n, kMr, pool, [&](int64_t g) {
      const int64_t mr = std::min<int64_t>(kMr, n - g * kMr);
      const float* rows = x + g * kMr * cols;
      uint32_t* dst = xp + g * kMr * kp;
      for (int64_t k = 0; k < cols; k += 32) {
        const __mmask16 m0 = first_lanes(cols - k), m1 = first_lanes(std::max<int64_t>(0, cols - k - 16));
        __m512i r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
          if (i >= mr) {
            r[i] = _mm512_setzero_si512();
            continue;
          }
          const float* row = rows + i * cols + k;
          r[i] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, row + 16),
                                              _mm512_maskz_loadu_ps(m0, row));
        }
        transpose16(r);
        store_columns(r, std::min<int64_t>(16, pairs(cols - k)), first_lanes(mr), dst + k / 2 * mr, mr);
      }
    });
    return {xp, cols};
  }

  static size_t panel_bytes(int64_t kc) { return static_cast<size_t>(kNr * pairs(kc)) * 4; }

  // BF16 rows as [pairs][32] 32-bit words; a row's odd last column pairs with a zero.
  static void pack_panel(const WeightMatrix& w, int64_t r, int n_valid, int64_t k0, int64_t kc,
                         void* dst) {
    const auto* wd = static_cast<const uint16_t*>(w.data) + r * w.cols + k0;
    auto* panel = static_cast<uint32_t*>(dst);
    for (int h = 0; h < 2; ++h) {
      for (int64_t k = 0; k < kc; k += 32) {
        const __mmask32 m = first_halves(kc - k);
        __m512i v[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j)
          v[j] = 16 * h + j < n_valid ? _mm512_maskz_loadu_epi16(m, wd + (16 * h + j) * w.cols + k)
                                      : _mm512_setzero_si512();
        transpose16(v);
        store_columns(v, std::min<int64_t>(16, pairs(kc - k)), first_lanes(16),
                      panel + k / 2 * kNr + 16 * h, kNr);
      }
    }
  }

  static void run(int mr, const PackedX& xp, int64_t i, int64_t k0, int64_t kc, const void* panel,
                  float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
    run_tile(mr, xp.data + i * pairs(xp.cols) + k0 / 2 * mr, static_cast<const uint32_t*>(panel),
             pairs(kc), c, ldc, n_valid, accumulate, bias);
  }
};

}  // namespace

void gemm_bf16(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
               ThreadPool* pool) {
  blocked_gemm<Bf16Tile>(x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
