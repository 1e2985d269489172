// A sequence's key/value cache, and the only code that knows how it is laid out: every
// read and write of cached keys and values goes through store() and attend(), so a new
// layout (paged, shared prefix blocks, another element type) changes this file alone.
//
// Layout today: one float32 block per sequence, [layers, capacity, kv_dim] for keys and
// the same for values, allocated in full at creation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace kantu::models::blocks {

// The attention of a decoder layer (grouped-query, causal).
struct CausalAttentionSpec {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  float scale = 0;  // usually 1/sqrt(head_dim)
};

class KvCache {
 public:
  // Throws std::bad_alloc when the memory is not there (the caller words the error).
  KvCache(int64_t layers, int64_t capacity, int64_t kv_dim);

  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float); }
  // The bytes a cache of these sizes takes (for admission control before allocating).
  static size_t bytes_for(int64_t layers, int64_t capacity, int64_t kv_dim);

  // Writes the keys and values of n tokens at cache indexes [start, start + n) of `layer`;
  // k and v are [n, kv_dim] with row stride `stride` floats.
  void store(int64_t layer, int64_t start, int64_t n, const float* k, const float* v,
             int64_t stride);

  // Causal attention of n queries at cache indexes [start, start + n) (already stored)
  // over the cached tokens [0, start + n) of `layer`: query i sees keys 0 .. start + i.
  // q and out are [n, heads * head_dim] with row stride q_stride / out_stride floats.
  void attend(int64_t layer, const CausalAttentionSpec& spec, const float* q, int64_t q_stride,
              int64_t start, int64_t n, float* out, int64_t out_stride, ThreadPool* pool) const;

 private:
  const float* k_at(int64_t layer, int64_t index) const {
    return k_.data() + (layer * capacity_ + index) * kv_dim_;
  }
  const float* v_at(int64_t layer, int64_t index) const {
    return v_.data() + (layer * capacity_ + index) * kv_dim_;
  }

  int64_t layers_ = 0, capacity_ = 0, kv_dim_ = 0;
  std::vector<float> k_, v_;  // [layers, capacity, kv_dim]
};

}  // namespace kantu::models::blocks
