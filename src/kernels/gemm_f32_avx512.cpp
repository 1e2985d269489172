// The AVX-512 float GEMM (n >= 4 x rows; prefill and the vision tower with f32 activations,
// and every weight type the bf16 / int8 tiles do not take): the blocked loop of
// gemm_driver.h with the 12 x 32 register tile of tile_f32_avx512.h (24 zmm accumulators):
// per k, 2 panel loads and 12 broadcasts feed 24 FMAs. x and the weight panels (converted to
// float32) are packed k-major with 16x16 transposes.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"
#include "kernels/matmul_avx2.h"
#include "kernels/simd_avx2.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl")

// After the target line: their code (internal linkage) is compiled for these instructions.
#include "kernels/gemm_driver.h"
#include "kernels/simd_avx512.h"
#include "kernels/tile_f32_avx512.h"
#include "kernels/weights_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

constexpr int kMr = kTileRowsF32;  // x rows per register tile
constexpr int kNr = kTileColsF32;  // weight rows per panel: two zmm per k

std::vector<float>& decoded_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

template <class L>
struct FloatTile {
  static constexpr int64_t kMr = ::kantu::kernels::KANTU_AVX512_NS::kMr;
  static constexpr int64_t kNr = ::kantu::kernels::KANTU_AVX512_NS::kNr;
  static constexpr int64_t kKc = 256;   // a panel is 32 KB: in L1 (48 KB on Zen 5)
  static constexpr int64_t kNc = 128;   // weight rows per task: 128 KB of panels, in L2
  static constexpr int64_t kMc = 1024;  // as the AVX2 GEMM: each weight packed once per 1024 rows

  struct PackedX {
    const float* data;  // group g of kMr rows at g * kMr * cols: [cols][mr]
    int64_t cols;
  };
  static PackedX pack_x(const float* x, int64_t n, int64_t cols, ThreadPool* pool) {
    struct Tag;
    auto* xp = reinterpret_cast<float*>(aligned_bytes<Tag>(static_cast<size_t>(n * cols) * 4));
    for_row_groups(n, kMr, pool, [&](int64_t g) {
      const int64_t mr = std::min<int64_t>(kMr, n - g * kMr);
      const float* rows = x + g * kMr * cols;
      float* dst = xp + g * kMr * cols;
      for (int64_t k = 0; k < cols; k += 16) {
        const __mmask16 m = first_lanes(cols - k);
        __m512i r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
          r[i] = i < mr ? _mm512_castps_si512(_mm512_maskz_loadu_ps(m, rows + i * cols + k))
                        : _mm512_setzero_si512();
        transpose16(r);
        store_columns(r, std::min<int64_t>(16, cols - k), first_lanes(mr), dst + k * mr, mr);
      }
    });
    return {xp, cols};
  }

  static size_t panel_bytes(int64_t kc) { return static_cast<size_t>(kNr * kc) * sizeof(float); }

  static void pack_panel(const WeightMatrix& w, int64_t r, int n_valid, int64_t k0, int64_t kc,
                         void* dst) {
    if constexpr (std::is_same_v<L, QuantRows>) {
      float* rows = avx2::aligned_scratch(decoded_buffer(), static_cast<size_t>(kNr * kc));
      for (int j = 0; j < n_valid; ++j) avx2::dequantize_slice(w, r + j, k0, kc, rows + j * kc);
      pack_float_panel<F32x16>(rows, kc, n_valid, kc, static_cast<float*>(dst));
    } else {
      const auto* wd = static_cast<const typename L::T*>(w.data);
      pack_float_panel<L>(wd + r * w.cols + k0, w.cols, n_valid, kc, static_cast<float*>(dst));
    }
  }

  // Rows [0, n_valid) of w (row stride ld), columns [0, kc), as float32 into panel[kc][32].
  template <class Load>
  static void pack_float_panel(const typename Load::T* w, int64_t ld, int n_valid, int64_t kc,
                               float* panel) {
    for (int h = 0; h < 2; ++h) {
      for (int64_t k = 0; k < kc; k += 16) {
        const __mmask16 m = first_lanes(kc - k);
        __m512i r[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j)
          r[j] = 16 * h + j < n_valid
                     ? _mm512_castps_si512(Load::load(w + (16 * h + j) * ld + k, m))
                     : _mm512_setzero_si512();
        transpose16(r);
        store_columns(r, std::min<int64_t>(16, kc - k), first_lanes(16), panel + k * kNr + 16 * h,
                      kNr);
      }
    }
  }

  static void run(int mr, const PackedX& xp, int64_t i, int64_t k0, int64_t kc, const void* panel,
                  float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
    run_tile_f32<true>(mr, xp.data + i * xp.cols + k0 * mr, kPackedRows,
                       static_cast<const float*>(panel), kNr, kc, c, ldc, n_valid, accumulate, bias);
  }
};

}  // namespace

void gemm_f32(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
              ThreadPool* pool) {
  switch (w.dtype) {
    case DType::kBF16:
      return blocked_gemm<FloatTile<Bf16x16>>(x, n, w, bias, y, pool);
    case DType::kF16:
      return blocked_gemm<FloatTile<F16x16>>(x, n, w, bias, y, pool);
    case DType::kF32:
      return blocked_gemm<FloatTile<F32x16>>(x, n, w, bias, y, pool);
    default:
      return blocked_gemm<FloatTile<QuantRows>>(x, n, w, bias, y, pool);
  }
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
