// Attention, flash style, for any instruction set: a task owns one head and a block of kQb
// queries and walks the visible keys in blocks of kKb with an online softmax, so memory stays
// bounded (a few tens of KB per thread) for any number of keys. Both products run on the
// ISA's GEMM register tile: S = Q·Kᵀ with the key block packed as panels, then O += P·V with
// the value block copied to a contiguous buffer first (K/V rows are a whole token apart,
// often 4 KB: reading them strided inside the tile loops defeats the prefetchers and aliases
// in L1). K and V may lie in blocks (KvBlocks) of a multiple of 16 rows: keys are packed 16
// rows at a time, so a 16-key group never spans two blocks.
//
// An ISA policy A supplies:
//   kRows, kPanel            tile rows, tile (and key panel) columns
//   Vec, kWidth              the float vector and its lanes (hd and kKb multiples of kWidth)
//   load, store, set1, add, sub, mul, max, exp, hmax, hsum    on Vec
//   pack_keys16(k, stride, n_valid, hd, dst, ld)   16 key rows (n_valid real, the rest 0)
//                                                  transposed into dst[hd][ld] at dst
//   tile(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate)   C (+)= A·B as tile_kernel
// Internal linkage: each ISA file includes it (after its target line) for its own copy.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/ops.h"

namespace kantu::kernels {
namespace {

template <class A>
struct Attention {
  static constexpr int64_t kQb = 16 * A::kRows;  // queries per task: each re-reads all visible keys
  static constexpr int64_t kKb = 64;             // keys per block
  using Vec = typename A::Vec;

  struct Scratch {
    std::vector<float> keys, values, scores, out, max, sum;
  };

  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }

  // n floats of `buffer` on a 64-byte boundary.
  static float* aligned(std::vector<float>& buffer, size_t n) {
    buffer.resize(n + 16);
    float* p = buffer.data();
    return p + (16 - (reinterpret_cast<uintptr_t>(p) / sizeof(float)) % 16) % 16;
  }

  // x[0, n) *= c (n a multiple of kWidth).
  static void scale(float* x, int64_t n, float c) {
    const Vec v = A::set1(c);
    for (int64_t d = 0; d < n; d += A::kWidth) A::store(x + d, A::mul(A::load(x + d), v));
  }

  // Turns one row of raw scores (row[0, n_valid) valid, padded to n_pad) into probabilities
  // relative to the running max m, and returns the factor the old sums must be scaled by.
  static float softmax_update(float* row, int64_t n_valid, int64_t n_pad, float sc, float* m,
                              float* l) {
    const Vec vscale = A::set1(sc);
    for (int64_t j = n_valid; j < n_pad; ++j) row[j] = -INFINITY;
    Vec vmax = A::set1(-INFINITY);
    for (int64_t j = 0; j < n_pad; j += A::kWidth) {
      const Vec s = A::mul(A::load(row + j), vscale);
      A::store(row + j, s);
      vmax = A::max(vmax, s);
    }
    const float m_new = std::max(*m, A::hmax(vmax));
    if (m_new == -INFINITY) {  // nothing visible yet (cannot happen for key 0, kept safe)
      for (int64_t j = 0; j < n_pad; ++j) row[j] = 0.f;
      return 1.f;
    }
    const float correction = std::exp(*m - m_new);  // e^-inf = 0 on the first block
    const Vec vm = A::set1(m_new);
    Vec vsum = A::set1(0.f);
    for (int64_t j = 0; j < n_pad; j += A::kWidth) {
      const Vec p = A::exp(A::sub(A::load(row + j), vm));
      A::store(row + j, p);
      vsum = A::add(vsum, p);
    }
    *l = *l * correction + A::hsum(vsum);
    *m = m_new;
    return correction;
  }

  static void attend_block(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
                           int64_t h, int64_t i0, int64_t i1) {
    const int64_t hd = s.head_dim, kvh = h / (s.n_heads / s.n_kv_heads);
    const int64_t nq = i1 - i0;
    const bool causal = s.causal_offset >= 0;
    const float* qh = q + i0 * s.q_stride + h * hd;
    const int64_t n_panels_max = (kKb + A::kPanel - 1) / A::kPanel;
    Scratch& sc = scratch();
    float* keys = aligned(sc.keys, static_cast<size_t>(n_panels_max * A::kPanel * hd));
    // The P·V tile reads kPanel values from every row at column d: pad the last row.
    float* values = aligned(sc.values, static_cast<size_t>(kKb * hd + A::kPanel));
    float* scores = aligned(sc.scores, static_cast<size_t>(kQb * kKb));
    float* o = aligned(sc.out, static_cast<size_t>(kQb * hd));
    sc.max.assign(kQb, -INFINITY);
    sc.sum.assign(kQb, 0.f);
    std::fill(o, o + nq * hd, 0.f);
    // The last query of the block sees keys < causal_offset + i1.
    const int64_t n_keys = causal ? std::min(s.n_kv, s.causal_offset + i1) : s.n_kv;
    for (int64_t j0 = 0; j0 < n_keys; j0 += kKb) {
      const int64_t kb = std::min(kKb, n_keys - j0);
      const int64_t n_panels = (kb + A::kPanel - 1) / A::kPanel;
      for (int64_t g = 0; g < n_panels * A::kPanel; g += 16) {
        float* panel = keys + g / A::kPanel * A::kPanel * hd + g % A::kPanel;
        const int valid = static_cast<int>(std::clamp<int64_t>(kb - g, 0, 16));
        if (valid == 0) {  // the panel's last 16 columns, past the keys
          for (int64_t d = 0; d < hd; ++d) std::fill_n(panel + d * A::kPanel, 16, 0.f);
          continue;
        }
        A::pack_keys16(kv.key(j0 + g, s.kv_stride) + kvh * hd, s.kv_stride, valid, hd, panel,
                       A::kPanel);
      }
      for (int64_t i = 0; i < nq; i += A::kRows) {
        const int mr = static_cast<int>(std::min<int64_t>(A::kRows, nq - i));
        for (int64_t p = 0; p < n_panels; ++p) {
          const int valid = static_cast<int>(std::min<int64_t>(A::kPanel, kb - p * A::kPanel));
          A::tile(mr, qh + i * s.q_stride, s.q_stride, keys + p * A::kPanel * hd, A::kPanel, hd,
                  scores + i * kKb + p * A::kPanel, kKb, valid, false);
        }
      }
      const int64_t kb_pad = (kb + A::kWidth - 1) / A::kWidth * A::kWidth;
      for (int64_t i = 0; i < nq; ++i) {
        int64_t visible = kb;
        if (causal) visible = std::clamp<int64_t>(s.causal_offset + i0 + i + 1 - j0, 0, kb);
        const float correction =
            softmax_update(scores + i * kKb, visible, kb_pad, s.scale, &sc.max[i], &sc.sum[i]);
        if (correction != 1.f) scale(o + i * hd, hd, correction);
      }
      for (int64_t j = 0; j < kb; ++j)
        std::copy_n(kv.value(j0 + j, s.kv_stride) + kvh * hd, hd, values + j * hd);
      for (int64_t i = 0; i < nq; i += A::kRows) {
        const int mr = static_cast<int>(std::min<int64_t>(A::kRows, nq - i));
        for (int64_t d = 0; d < hd; d += A::kPanel)
          A::tile(mr, scores + i * kKb, kKb, values + d, hd, kb, o + i * hd + d, hd,
                  static_cast<int>(std::min<int64_t>(A::kPanel, hd - d)), true);
      }
    }
    for (int64_t i = 0; i < nq; ++i) {
      float* dst = out + (i0 + i) * s.out_stride + h * hd;
      std::copy_n(o + i * hd, hd, dst);
      scale(dst, hd, 1.f / sc.sum[i]);
    }
  }

  // Every (head, query block) task on the pool.
  static void run(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
                  ThreadPool* pool) {
    const int64_t n_blocks = (s.n_q + kQb - 1) / kQb;
    auto task = [&](int64_t t) {
      const int64_t h = t / n_blocks, b = t % n_blocks;
      attend_block(q, kv, out, s, h, b * kQb, std::min(s.n_q, (b + 1) * kQb));
    };
    const int64_t n_tasks = s.n_heads * n_blocks;
    if (pool == nullptr || pool->size() == 1) {
      for (int64_t t = 0; t < n_tasks; ++t) task(t);
    } else {
      pool->parallel_for(n_tasks, task);
    }
  }
};

}  // namespace
}  // namespace kantu::kernels
