#include "models/blocks/kv_cache.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {

KvCache::KvCache(int64_t layers, int64_t capacity, int64_t kv_dim)
    : layers_(layers), capacity_(capacity), kv_dim_(kv_dim) {
  const size_t n = static_cast<size_t>(layers * capacity * kv_dim);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

size_t KvCache::bytes_for(int64_t layers, int64_t capacity, int64_t kv_dim) {
  return static_cast<size_t>(2 * layers * capacity * kv_dim) * sizeof(float);
}

void KvCache::store(int64_t layer, int64_t start, int64_t n, const float* k, const float* v,
                    int64_t stride) {
  KANTU_CHECK(layer >= 0 && layer < layers_ && start >= 0 && start + n <= capacity_,
              "kv cache: layer ", layer, " rows ", start, "+", n, " of ", capacity_);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(k + i * stride, kv_dim_, k_.data() + (layer * capacity_ + start + i) * kv_dim_);
    std::copy_n(v + i * stride, kv_dim_, v_.data() + (layer * capacity_ + start + i) * kv_dim_);
  }
}

void KvCache::attend(int64_t layer, const CausalAttentionSpec& spec, const float* q,
                     int64_t q_stride, int64_t start, int64_t n, float* out, int64_t out_stride,
                     ThreadPool* pool) const {
  KANTU_CHECK(layer >= 0 && layer < layers_ && start >= 0 && start + n <= capacity_,
              "kv cache: attend layer ", layer, " rows ", start, "+", n, " of ", capacity_);
  kernels::AttentionShape shape{};
  shape.n_q = n;
  shape.n_kv = start + n;
  shape.n_heads = spec.heads;
  shape.n_kv_heads = spec.kv_heads;
  shape.head_dim = spec.head_dim;
  shape.q_stride = q_stride;
  shape.kv_stride = kv_dim_;
  shape.out_stride = out_stride;
  shape.scale = spec.scale;
  shape.causal_offset = start;
  kernels::attention(q, k_at(layer, 0), v_at(layer, 0), out, shape, pool);
}

}  // namespace kantu::models::blocks
