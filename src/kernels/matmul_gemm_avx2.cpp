// y[n, rows] = x[n, cols] · Wᵀ for many x rows (prefill, vision): compute-bound.
// Blocking (Goto style): a task owns kNc weight rows × kMc x rows. For each kKc-wide slice of
// the columns it converts and packs its weight rows into panels of 16 rows stored k-major
// ([k][16] floats, so one k is two ymm), then a 6×16 register tile (12 accumulators) runs
// over every 6 x-rows: per k, 2 panel loads + 6 broadcasts feed 12 FMAs.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/gemm_tasks.h"
#include "kernels/gemm_tile_avx2.h"
#include "kernels/matmul_avx2.h"

namespace kantu::kernels::avx2 {
namespace {

constexpr int kMr = kTileRows;
constexpr int kNr = kPanelCols;
constexpr int64_t kKc = 256;  // columns per slice: a panel is 16 KB, stays in L1
constexpr int64_t kNc = 128;  // weight rows per task: the packed block is 128 KB, in L2
// x rows per task at most. The packed x slice the panels stream over (kMc x kKc floats,
// 1 MB) sits in L3; being read sequentially it is prefetched, and taller blocks mean each
// weight is converted and packed fewer times (that packing was 12% of a vision encode
// with 192-row blocks).
constexpr int64_t kMc = 1024;

// Tag for block-quantized weights: panels are filled through dequantize_slice.
struct QuantWeights {
  using T = uint8_t;
};

std::vector<float>& packed_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

std::vector<float>& packed_x_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

std::vector<float>& decoded_buffer() {
  thread_local std::vector<float> buffer;
  return buffer;
}

// x [n, cols] as run_tile reads it: each group of kMr rows (the last may be shorter)
// k-major, [cols][mr], the groups one after another (group g starts at g * kMr * cols).
// Packed once per matmul: every task of a row block reads its slices in place.
const float* pack_x(const float* x, int64_t n, int64_t cols, ThreadPool* pool) {
  float* xp = aligned_scratch(packed_x_buffer(), static_cast<size_t>(n * cols + 8));
  const int64_t groups = (n + kMr - 1) / kMr;
  auto pack_group = [&](int64_t g) {
    const int mr = static_cast<int>(std::min<int64_t>(kMr, n - g * kMr));
    pack_rows(x + g * kMr * cols, cols, mr, cols, xp + g * kMr * cols);
  };
  if (pool == nullptr || pool->size() == 1) {
    for (int64_t g = 0; g < groups; ++g) pack_group(g);
  } else {
    pool->parallel_for(groups, pack_group);
  }
  return xp;
}

// One task: weight rows [r0, r1) × x rows [i0, i1) (i0 a multiple of kMr); xp is pack_x(x).
template <class L>
void gemm_block(const float* xp, const WeightMatrix& w, const float* bias, float* y, int64_t i0,
                int64_t i1, int64_t r0, int64_t r1) {
  const int64_t cols = w.cols, rows = w.rows;
  [[maybe_unused]] const auto* wd = static_cast<const typename L::T*>(w.data);
  const int64_t n_panels = (r1 - r0 + kNr - 1) / kNr;
  float* base = aligned_scratch(packed_buffer(), static_cast<size_t>(n_panels * kNr * kKc));
  for (int64_t k0 = 0; k0 < cols || k0 == 0; k0 += kKc) {
    const int64_t kc = std::min(kKc, cols - k0);
    const bool first = k0 == 0;
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r = r0 + p * kNr;
      const int n_valid = static_cast<int>(std::min<int64_t>(kNr, r1 - r));
      if constexpr (std::is_same_v<L, QuantWeights>) {
        // Decode the slice of each row once (it then serves every x row of the task),
        // and transpose the float rows into the panel.
        float* rows_f32 = aligned_scratch(decoded_buffer(), static_cast<size_t>(kNr * kKc));
        for (int j = 0; j < n_valid; ++j) dequantize_slice(w, r + j, k0, kc, rows_f32 + j * kc);
        pack_panel<F32Weights>(rows_f32, kc, n_valid, kc, base + p * kNr * kc);
      } else {
        pack_panel<L>(wd + r * cols + k0, cols, n_valid, kc, base + p * kNr * kc);
      }
    }
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r = r0 + p * kNr;
      const int n_valid = static_cast<int>(std::min<int64_t>(kNr, r1 - r));
      const float* panel = base + p * kNr * kc;
      const float* b = bias != nullptr ? bias + r : nullptr;
      for (int64_t i = i0; i < i1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, i1 - i));
        run_tile<2>(mr, xp + i * cols + k0 * mr, kPackedA, panel, kNr, kc, y + i * rows + r,
                    rows, n_valid, !first, b);
      }
    }
    if (cols == 0) break;
  }
}

template <class L>
void gemm_typed(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool) {
  const float* xp = pack_x(x, n, w.cols, pool);
  run_gemm_tasks(n, w.rows, kMc, kMr, kNc, pool,
                 [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                   gemm_block<L>(xp, w, bias, y, i0, i1, r0, r1);
                 });
}

}  // namespace

void gemm(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
          ThreadPool* pool) {
  switch (w.dtype) {
    case DType::kBF16:
      return gemm_typed<Bf16Weights>(x, n, w, bias, y, pool);
    case DType::kF16:
      return gemm_typed<F16Weights>(x, n, w, bias, y, pool);
    case DType::kF32:
      return gemm_typed<F32Weights>(x, n, w, bias, y, pool);
    default:
      return gemm_typed<QuantWeights>(x, n, w, bias, y, pool);
  }
}

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  // Block types stay on the integer GEMV up to 4 rows (a 4-stream batched decode step):
  // below that the GEMM's decode-and-pack of the weights costs more than its FMAs save.
  if (dtype_is_quantized(w.dtype)) {
    if (n <= 4) return gemv_quant(x, n, w, bias, y, pool);
  } else if (n <= kGemvMaxRows) {
    return gemv(x, n, w, bias, y, pool);
  }
  gemm(x, n, w, bias, y, pool);
}

}  // namespace kantu::kernels::avx2
