// AVX2 attention, flash style: a task owns one head and a block of kQb queries, walks the
// visible keys in blocks of kKb with an online softmax, so memory stays bounded (a few
// tens of KB per thread) for any number of keys. Both products run on the GEMM register
// tile: S = Q·Kᵀ with the key block packed as panels, then O += P·V with the value block
// copied to a contiguous buffer first (K/V rows are a whole token apart, often 4 KB: reading
// them strided inside the tile loops defeats the prefetchers and aliases in L1).
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/gemm_tile_avx2.h"
#include "kernels/ref.h"

namespace kantu::kernels::avx2 {
namespace {

constexpr int64_t kQb = 16 * kTileRows;  // queries per task: each re-reads all visible keys
constexpr int64_t kKb = 64;             // keys per block (4 panels of 16)

struct Scratch {
  std::vector<float> keys, values, scores, out, max, sum;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Turns one row of raw scores (row[0, n_valid) valid, padded to n_pad) into probabilities
// relative to the running max m, and returns the factor the old sums must be scaled by.
float softmax_update(float* row, int64_t n_valid, int64_t n_pad, float scale, float* m,
                     float* l) {
  const __m256 vscale = _mm256_set1_ps(scale), minus_inf = _mm256_set1_ps(-INFINITY);
  for (int64_t j = n_valid; j < n_pad; ++j) row[j] = -INFINITY;
  __m256 vmax = minus_inf;
  for (int64_t j = 0; j < n_pad; j += 8) {
    const __m256 s = _mm256_mul_ps(_mm256_loadu_ps(row + j), vscale);
    _mm256_storeu_ps(row + j, s);
    vmax = _mm256_max_ps(vmax, s);
  }
  const float m_new = std::max(*m, hmax(vmax));
  if (m_new == -INFINITY) {  // nothing visible yet (cannot happen for key 0, kept safe)
    for (int64_t j = 0; j < n_pad; ++j) row[j] = 0.f;
    return 1.f;
  }
  const float correction = std::exp(*m - m_new);  // e^-inf = 0 on the first block
  const __m256 vm = _mm256_set1_ps(m_new);
  __m256 vsum = _mm256_setzero_ps();
  for (int64_t j = 0; j < n_pad; j += 8) {
    const __m256 p = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
    _mm256_storeu_ps(row + j, p);
    vsum = _mm256_add_ps(vsum, p);
  }
  *l = *l * correction + hsum(vsum);
  *m = m_new;
  return correction;
}

void attend_block(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
                  int64_t h, int64_t i0, int64_t i1) {
  const int64_t hd = s.head_dim, kvh = h / (s.n_heads / s.n_kv_heads);
  const int64_t nq = i1 - i0;
  const bool causal = s.causal_offset >= 0;
  const float* qh = q + i0 * s.q_stride + h * hd;
  Scratch& sc = scratch();
  float* keys = aligned_scratch(sc.keys, static_cast<size_t>(kKb * hd));
  float* values = aligned_scratch(sc.values, static_cast<size_t>(kKb * hd));
  float* scores = aligned_scratch(sc.scores, static_cast<size_t>(kQb * kKb));
  float* o = aligned_scratch(sc.out, static_cast<size_t>(kQb * hd));
  sc.max.assign(kQb, -INFINITY);
  sc.sum.assign(kQb, 0.f);
  std::fill(o, o + nq * hd, 0.f);
  // The last query of the block sees keys < causal_offset + i1.
  const int64_t n_keys = causal ? std::min(s.n_kv, s.causal_offset + i1) : s.n_kv;
  for (int64_t j0 = 0; j0 < n_keys; j0 += kKb) {
    const int64_t kb = std::min(kKb, n_keys - j0);
    const int64_t n_panels = (kb + kPanelCols - 1) / kPanelCols;
    for (int64_t p = 0; p < n_panels; ++p) {
      const int valid = static_cast<int>(std::min<int64_t>(kPanelCols, kb - p * kPanelCols));
      // A panel's 16 keys are consecutive rows of one block (blocks hold 16k rows).
      pack_panel<F32Weights>(kv.key(j0 + p * kPanelCols, s.kv_stride) + kvh * hd, s.kv_stride,
                             valid, hd, keys + p * kPanelCols * hd);
    }
    for (int64_t i = 0; i < nq; i += kTileRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kTileRows, nq - i));
      for (int64_t p = 0; p < n_panels; ++p) {
        const int valid = static_cast<int>(std::min<int64_t>(kPanelCols, kb - p * kPanelCols));
        run_tile<2>(mr, qh + i * s.q_stride, s.q_stride, keys + p * kPanelCols * hd, kPanelCols,
                    hd, scores + i * kKb + p * kPanelCols, kKb, valid, false, nullptr);
      }
    }
    const int64_t kb_pad = (kb + 7) / 8 * 8;
    for (int64_t i = 0; i < nq; ++i) {
      int64_t visible = kb;
      if (causal) visible = std::clamp<int64_t>(s.causal_offset + i0 + i + 1 - j0, 0, kb);
      const float correction =
          softmax_update(scores + i * kKb, visible, kb_pad, s.scale, &sc.max[i], &sc.sum[i]);
      if (correction != 1.f) {
        const __m256 c = _mm256_set1_ps(correction);
        float* oi = o + i * hd;
        for (int64_t d = 0; d < hd; d += 8)
          _mm256_storeu_ps(oi + d, _mm256_mul_ps(_mm256_loadu_ps(oi + d), c));
      }
    }
    for (int64_t j = 0; j < kb; ++j) {
      const float* src = kv.value(j0 + j, s.kv_stride) + kvh * hd;
      for (int64_t d = 0; d < hd; d += 8)
        _mm256_store_ps(values + j * hd + d, _mm256_loadu_ps(src + d));
    }
    for (int64_t i = 0; i < nq; i += kTileRows) {
      const int mr = static_cast<int>(std::min<int64_t>(kTileRows, nq - i));
      int64_t d = 0;
      for (; d + 16 <= hd; d += 16)
        run_tile<2>(mr, scores + i * kKb, kKb, values + d, hd, kb, o + i * hd + d, hd, 16, true,
                    nullptr);
      if (d < hd)
        run_tile<1>(mr, scores + i * kKb, kKb, values + d, hd, kb, o + i * hd + d, hd, 8, true,
                    nullptr);
    }
  }
  for (int64_t i = 0; i < nq; ++i) {
    const __m256 inv = _mm256_set1_ps(1.f / sc.sum[i]);
    float* dst = out + (i0 + i) * s.out_stride + h * hd;
    for (int64_t d = 0; d < hd; d += 8)
      _mm256_storeu_ps(dst + d, _mm256_mul_ps(_mm256_loadu_ps(o + i * hd + d), inv));
  }
}

}  // namespace

void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  if (s.head_dim % 8 != 0) return ref::attention(q, kv, out, s, pool);  // no such model yet
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

}  // namespace kantu::kernels::avx2
