// y[n, rows] = x[n, cols] · Wᵀ for many x rows (prefill, vision): compute-bound. The blocked
// loop of gemm_driver.h with the AVX2 float tile: weight panels of 16 rows stored k-major
// ([k][16] floats, so one k is two ymm), a 6×16 register tile (12 accumulators) over every 6
// x rows: per k, 2 panel loads + 6 broadcasts feed 12 FMAs. Also the AVX2 matmul entry.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/gemm_driver.h"
#include "kernels/gemm_tile_avx2.h"
#include "kernels/matmul_avx2.h"
#include "kernels/matmul_common.h"

namespace kantu::kernels::avx2 {
namespace {

// Tag for block-quantized weights: panels are filled through dequantize_slice.
struct QuantWeights {
  using T = uint8_t;
};

std::vector<float>& decoded_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

std::vector<float>& packed_x_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// The 6x16 float tile (gemm_tile_avx2.h) for the blocked loop of gemm_driver.h.
template <class L>
struct FloatTile {
  static constexpr int64_t kMr = kTileRows;
  static constexpr int64_t kNr = kPanelCols;
  static constexpr int64_t kKc = 256;  // columns per slice: a panel is 16 KB, stays in L1
  static constexpr int64_t kNc = 128;  // weight rows per task: the packed block is 128 KB, in L2
  // x rows per task at most. The packed x slice the panels stream over (kMc x kKc floats,
  // 1 MB) sits in L3; being read sequentially it is prefetched, and taller blocks mean each
  // weight is converted and packed fewer times (that packing was 12% of a vision encode
  // with 192-row blocks).
  static constexpr int64_t kMc = 1024;

  // x [n, cols] as run_tile reads it: each group of kMr rows (the last may be shorter)
  // k-major, [cols][mr], the groups one after another (group g starts at g * kMr * cols).
  struct PackedX {
    const float* data;
    int64_t cols;
  };
  static PackedX pack_x(const float* x, int64_t n, int64_t cols, ThreadPool* pool) {
    float* xp = aligned_scratch(packed_x_buffer(), static_cast<size_t>(n * cols + 8));
    for_row_groups(n, kMr, pool, [&](int64_t g) {
      const int mr = static_cast<int>(std::min<int64_t>(kMr, n - g * kMr));
      pack_rows(x + g * kMr * cols, cols, mr, cols, xp + g * kMr * cols);
    });
    return {xp, cols};
  }

  static size_t panel_bytes(int64_t kc) { return static_cast<size_t>(kNr * kc) * sizeof(float); }

  static void pack_panel(const WeightMatrix& w, int64_t r, int n_valid, int64_t k0, int64_t kc,
                         void* dst) {
    float* panel = static_cast<float*>(dst);
    if constexpr (std::is_same_v<L, QuantWeights>) {
      // Decode the slice of each row once (it then serves every x row of the task),
      // and transpose the float rows into the panel.
      float* rows_f32 = aligned_scratch(decoded_buffer(), static_cast<size_t>(kNr * kc));
      for (int j = 0; j < n_valid; ++j) dequantize_slice(w, r + j, k0, kc, rows_f32 + j * kc);
      avx2::pack_panel<F32Weights>(rows_f32, kc, n_valid, kc, panel);
    } else {
      const auto* wd = static_cast<const typename L::T*>(w.data);
      avx2::pack_panel<L>(wd + r * w.cols + k0, w.cols, n_valid, kc, panel);
    }
  }

  static void run(int mr, const PackedX& xp, int64_t i, int64_t k0, int64_t kc, const void* panel,
                  float* c, int64_t ldc, int n_valid, bool accumulate, const float* bias) {
    run_tile<2>(mr, xp.data + i * xp.cols + k0 * mr, kPackedA, static_cast<const float*>(panel),
                kNr, kc, c, ldc, n_valid, accumulate, bias);
  }
};

}  // namespace

void gemm(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool) {
  switch (w.dtype) {
    case DType::kBF16:
      return blocked_gemm<FloatTile<Bf16Weights>>(x, n, w, bias, y, pool);
    case DType::kF16:
      return blocked_gemm<FloatTile<F16Weights>>(x, n, w, bias, y, pool);
    case DType::kF32:
      return blocked_gemm<FloatTile<F32Weights>>(x, n, w, bias, y, pool);
    default:
      return blocked_gemm<FloatTile<QuantWeights>>(x, n, w, bias, y, pool);
  }
}

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  if (w.cols == 0) return bias_only(n, w, bias, y);
  const Activations a = effective_activations(w);
  const bool quantized = dtype_is_quantized(w.dtype);
  // Block types with int8 x: the integer GEMV up to 4 rows (a 4-stream batched decode step).
  // No integer GEMM here: without VNNI, int8 products come no faster than float FMAs (see
  // README "CPU kernels"), so more rows take the float tile on x rounded to the int8 grid.
  if (quantized && a == Activations::kInt8 && n <= 4) return gemv_quant(x, n, w, bias, y, pool);
  const float* xr = rounded_activations(a, x, n, w.cols);
  if (quantized ? n <= 4 : n <= kGemvMaxRows) return gemv(xr, n, w, bias, y, pool);
  gemm(xr, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::avx2
