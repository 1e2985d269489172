#include "models/blocks/kv_cache.h"

#include <algorithm>

#include "core/error.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {

KvBlock::KvBlock(const KvShape& shape)
    : shape_(shape),
      data_(std::make_unique_for_overwrite<float[]>(bytes_for(shape) / sizeof(float))) {}

KvCache::KvCache(const KvShape& shape, int64_t capacity) : shape_(shape), capacity_(capacity) {
  KANTU_CHECK(shape.block_tokens > 0 && shape.block_tokens % 16 == 0 && capacity >= 0,
              "kv cache: blocks of ", shape.block_tokens, " tokens, capacity ", capacity);
}

size_t KvCache::bytes_for(const KvShape& shape, int64_t capacity) {
  const int64_t blocks = (capacity + shape.block_tokens - 1) / shape.block_tokens;
  return static_cast<size_t>(blocks) * KvBlock::bytes_for(shape);
}

void KvCache::reserve(int64_t rows) {
  KANTU_CHECK(rows >= 0 && rows <= capacity_, "kv cache: reserve ", rows, " of ", capacity_);
  const int64_t B = shape_.block_tokens;
  while (static_cast<int64_t>(blocks_.size()) * B < rows) {
    blocks_.push_back(std::make_shared<KvBlock>(shape_));
  }
}

void KvCache::store(int64_t layer, int64_t start, int64_t n, const float* k, const float* v,
                    int64_t stride) {
  const int64_t B = shape_.block_tokens;
  KANTU_CHECK(layer >= 0 && layer < shape_.layers && start >= attached_rows_ &&
                  start + n <= static_cast<int64_t>(blocks_.size()) * B,
              "kv cache: store layer ", layer, " rows ", start, "+", n, " (", blocks_.size(),
              " blocks, ", attached_rows_, " rows shared)");
  for (int64_t i = 0; i < n; ++i) {
    KvBlock& block = *blocks_[(start + i) / B];
    const int64_t row = (start + i) % B;
    std::copy_n(k + i * stride, shape_.kv_dim, block.k(layer, row));
    std::copy_n(v + i * stride, shape_.kv_dim, block.v(layer, row));
  }
}

void KvCache::attend(int64_t layer, const CausalAttentionSpec& spec, const float* q,
                     int64_t q_stride, int64_t start, int64_t n, float* out, int64_t out_stride,
                     ThreadPool* pool) const {
  const int64_t B = shape_.block_tokens;
  const int64_t n_kv = start + n;
  KANTU_CHECK(layer >= 0 && layer < shape_.layers && start >= 0 &&
                  n_kv <= static_cast<int64_t>(blocks_.size()) * B,
              "kv cache: attend layer ", layer, " rows ", start, "+", n, " of ",
              blocks_.size() * B);
  const int64_t used = (n_kv + B - 1) / B;
  std::vector<const float*> k_blocks(used), v_blocks(used);
  for (int64_t b = 0; b < used; ++b) {
    k_blocks[b] = blocks_[b]->k(layer, 0);
    v_blocks[b] = blocks_[b]->v(layer, 0);
  }
  kernels::AttentionShape shape{};
  shape.n_q = n;
  shape.n_kv = n_kv;
  shape.n_heads = spec.heads;
  shape.n_kv_heads = spec.kv_heads;
  shape.head_dim = spec.head_dim;
  shape.q_stride = q_stride;
  shape.kv_stride = shape_.kv_dim;
  shape.out_stride = out_stride;
  shape.scale = spec.scale;
  shape.causal_offset = start;
  kernels::attention(q, kernels::KvBlocks{k_blocks.data(), v_blocks.data(), B}, out, shape, pool);
}

std::shared_ptr<const KvBlock> KvCache::block(int64_t i) const {
  KANTU_CHECK(i >= 0 && i < static_cast<int64_t>(blocks_.size()), "kv cache: block ", i, " of ",
              blocks_.size());
  return blocks_[i];
}

void KvCache::attach(std::span<const std::shared_ptr<const KvBlock>> blocks, int64_t rows) {
  const int64_t B = shape_.block_tokens;
  if (!blocks_.empty()) fail(ErrorKind::kInvalidArgument, "kv cache: attach to a cache that holds tokens");
  if (rows < 0 || rows > capacity_ || rows > static_cast<int64_t>(blocks.size()) * B ||
      (rows + B - 1) / B != static_cast<int64_t>(blocks.size())) {
    fail(ErrorKind::kInvalidArgument, "kv cache: attach ", rows, " rows from ", blocks.size(),
         " blocks into a cache of ", capacity_);
  }
  for (const auto& b : blocks) {
    if (!b || !(b->shape() == shape_))
      fail(ErrorKind::kInvalidArgument, "kv cache: a block of another model or shape");
  }
  const int64_t whole = rows / B;
  for (int64_t i = 0; i < whole; ++i) {
    // Shared, never written: this cache writes from `rows` on, past these blocks.
    blocks_.push_back(std::const_pointer_cast<KvBlock>(blocks[i]));
  }
  attached_rows_ = whole * B;
  if (const int64_t tail = rows - whole * B; tail > 0) {
    auto copy = std::make_shared<KvBlock>(shape_);
    const KvBlock& src = *blocks[whole];
    for (int64_t l = 0; l < shape_.layers; ++l) {
      std::copy_n(src.k(l, 0), tail * shape_.kv_dim, copy->k(l, 0));
      std::copy_n(src.v(l, 0), tail * shape_.kv_dim, copy->v(l, 0));
    }
    blocks_.push_back(std::move(copy));
  }
}

}  // namespace kantu::models::blocks
