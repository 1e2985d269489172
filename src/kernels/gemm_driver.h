// The blocked loop every register-tiled GEMM shares (y[n, rows] = x[n, cols] · Wᵀ for many x
// rows: prefill and the vision tower), whatever the instructions of its tile: the AVX2 float
// tile, and the AVX-512 float, bf16 (vdpbf16ps) and int8 (vpdpbusd) ones.
//
// Goto-style: x is packed once per matmul in the tile's layout (groups of kMr rows, k-major).
// A task (gemm_tasks.h) owns kNc weight rows x up to kMc x rows; for each kKc-wide slice of
// the columns it packs its weight rows into panels of kNr rows (converted to what the tile
// multiplies, k-major), then runs the register tile over every kMr x rows of the task per
// panel, so the panel stays in L1 while the x slice streams from L2.
//
// A Tile policy supplies the instruction-set parts:
//   kMr, kNr, kKc, kNc, kMc                       tile rows, panel rows, blocking sizes
//   PackedX pack_x(x, n, cols, pool)              x in the tile's layout (per-thread scratch)
//   size_t panel_bytes(kc)                        one panel of kc columns
//   pack_panel(w, r, n_valid, k0, kc, dst)        weight rows [r, r + n_valid) (the rest of
//                                                 the panel zeros), columns [k0, k0 + kc)
//   run(mr, xp, i, k0, kc, panel, c, ldc, n_valid, accumulate, bias)
//       c[mr][n_valid] (row stride ldc) = (accumulate ? c : bias or 0) + x rows [i, i + mr),
//       columns [k0, k0 + kc) times the panel
//
// Internal linkage: a kernel file includes it after its target line and gets its own copy
// compiled for its instructions (no weak symbol shared across instruction sets).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/gemm_tasks.h"
#include "kernels/ops.h"

namespace kantu::kernels {
namespace {

// Per-thread scratch of `bytes` bytes on a 64-byte boundary, one buffer per Tag.
template <class Tag>
std::byte* aligned_bytes(size_t bytes) {
  thread_local std::vector<std::byte> buffer;
  if (buffer.size() < bytes + 64) buffer.resize(bytes + 64);
  const auto at = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + (64 - at % 64) % 64;
}

// One task: weight rows [r0, r1) x x rows [i0, i1) (i0 a multiple of kMr).
template <class Tile>
void gemm_block(const typename Tile::PackedX& xp, const WeightMatrix& w, const float* bias,
                float* y, int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
  const int64_t n_panels = (r1 - r0 + Tile::kNr - 1) / Tile::kNr;
  struct PanelTag;
  std::byte* base = aligned_bytes<PanelTag>(static_cast<size_t>(n_panels) * Tile::panel_bytes(Tile::kKc));
  for (int64_t k0 = 0; k0 < w.cols; k0 += Tile::kKc) {
    const int64_t kc = std::min<int64_t>(Tile::kKc, w.cols - k0);
    const size_t stride = Tile::panel_bytes(kc);
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r = r0 + p * Tile::kNr;
      const int n_valid = static_cast<int>(std::min<int64_t>(Tile::kNr, r1 - r));
      Tile::pack_panel(w, r, n_valid, k0, kc, base + p * stride);
    }
    for (int64_t p = 0; p < n_panels; ++p) {
      const int64_t r = r0 + p * Tile::kNr;
      const int n_valid = static_cast<int>(std::min<int64_t>(Tile::kNr, r1 - r));
      const float* b = bias != nullptr ? bias + r : nullptr;
      for (int64_t i = i0; i < i1; i += Tile::kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(Tile::kMr, i1 - i));
        Tile::run(mr, xp, i, k0, kc, base + p * stride, y + i * w.rows + r, w.rows, n_valid,
                  k0 != 0, b);
      }
    }
  }
}

// y = x · Wᵀ (+ bias) with w.cols > 0, on the pool's threads.
template <class Tile>
void blocked_gemm(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                  ThreadPool* pool) {
  const typename Tile::PackedX xp = Tile::pack_x(x, n, w.cols, pool);
  run_gemm_tasks(n, w.rows, Tile::kMc, Tile::kMr, Tile::kNc, pool,
                 [&](int64_t i0, int64_t i1, int64_t r0, int64_t r1) {
                   gemm_block<Tile>(xp, w, bias, y, i0, i1, r0, r1);
                 });
}

// Runs pack_group(g) for the ceil(n / mr) row groups of x, in parallel on the pool.
template <class PackGroup>
void for_row_groups(int64_t n, int64_t mr, ThreadPool* pool, const PackGroup& pack_group) {
  const int64_t groups = (n + mr - 1) / mr;
  if (pool == nullptr || pool->size() == 1) {
    for (int64_t g = 0; g < groups; ++g) pack_group(g);
  } else {
    pool->parallel_for(groups, pack_group);
  }
}

}  // namespace
}  // namespace kantu::kernels
