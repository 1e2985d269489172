// A sequence's key/value cache, and the only code that knows how it is laid out: every
// read and write of cached keys and values goes through store() and attend().
//
// Layout: blocks of KvShape::block_tokens consecutive tokens, each holding their keys and
// values for every layer ([2][layers][block_tokens][kv_dim] float32), allocated as the
// sequence grows (reserve()), read by the attention kernel block by block (no copy).
//
// Blocks are shared between sequences (a prefix cache keeps them and hands them to later
// sequences with the same prefix). One rule makes that safe without locks or copies of
// whole caches: a block is only ever written at rows at or after its writer's length,
// and anyone else who holds it relies only on the rows below the length at which it was
// shared. So a block shared whole is never written again, and attach() copies a partly
// used last block (the new sequence will write after its shared rows, and so may the
// sequence that shared it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/thread_pool.h"

namespace kantu::models::blocks {

// Tokens per block: a multiple of 16 (the attention kernel packs keys 16 rows at a time).
inline constexpr int64_t kKvBlockTokens = 64;

struct KvShape {
  int64_t layers = 0;
  int64_t kv_dim = 0;  // kv_heads * head_dim
  int64_t block_tokens = kKvBlockTokens;
  const void* owner = nullptr;  // the model whose layers these are: blocks never cross models
  bool operator==(const KvShape&) const = default;
};

// Keys and values of up to block_tokens consecutive tokens of one sequence, every layer.
class KvBlock {
 public:
  // Uninitialised rows; throws std::bad_alloc when the memory is not there.
  explicit KvBlock(const KvShape& shape);
  const KvShape& shape() const { return shape_; }
  size_t bytes() const { return bytes_for(shape_); }
  static size_t bytes_for(const KvShape& shape) {
    return static_cast<size_t>(2 * shape.layers * shape.block_tokens * shape.kv_dim) * sizeof(float);
  }
  float* k(int64_t layer, int64_t row) { return data_.get() + offset(0, layer, row); }
  float* v(int64_t layer, int64_t row) { return data_.get() + offset(1, layer, row); }
  const float* k(int64_t layer, int64_t row) const { return data_.get() + offset(0, layer, row); }
  const float* v(int64_t layer, int64_t row) const { return data_.get() + offset(1, layer, row); }

 private:
  int64_t offset(int64_t kv, int64_t layer, int64_t row) const {
    return ((kv * shape_.layers + layer) * shape_.block_tokens + row) * shape_.kv_dim;
  }
  KvShape shape_;
  std::unique_ptr<float[]> data_;
};

// The attention of a decoder layer (grouped-query, causal).
struct CausalAttentionSpec {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  float scale = 0;  // usually 1/sqrt(head_dim)
};

class KvCache {
 public:
  // Room for `capacity` tokens; blocks are allocated by reserve().
  KvCache(const KvShape& shape, int64_t capacity);

  const KvShape& shape() const { return shape_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return shape_.kv_dim; }
  // Bytes of the blocks held (shared ones counted in full).
  size_t bytes() const { return blocks_.size() * KvBlock::bytes_for(shape_); }
  // The bytes a cache of `capacity` tokens holds at most (for admission control).
  static size_t bytes_for(const KvShape& shape, int64_t capacity);

  // Allocates the blocks that rows [0, rows) need (rows <= capacity). Throws
  // std::bad_alloc when the memory is not there; the blocks held so far stay.
  void reserve(int64_t rows);

  // Writes the keys and values of n tokens at cache indexes [start, start + n) of `layer`
  // (reserved, and not below any row this cache shared); k and v are [n, kv_dim] with
  // row stride `stride` floats.
  void store(int64_t layer, int64_t start, int64_t n, const float* k, const float* v,
             int64_t stride);

  // Causal attention of n queries at cache indexes [start, start + n) (already stored)
  // over the cached tokens [0, start + n) of `layer`: query i sees keys 0 .. start + i.
  // q and out are [n, heads * head_dim] with row stride q_stride / out_stride floats.
  void attend(int64_t layer, const CausalAttentionSpec& spec, const float* q, int64_t q_stride,
              int64_t start, int64_t n, float* out, int64_t out_stride, ThreadPool* pool) const;

  // Sharing. Block i holds cache indexes [i * block_tokens, (i + 1) * block_tokens).
  int64_t block_count() const { return static_cast<int64_t>(blocks_.size()); }
  std::shared_ptr<const KvBlock> block(int64_t i) const;
  // Fills an empty cache with the first `rows` rows of a sequence whose blocks these are
  // (in order; rows <= capacity): whole blocks are shared, a partly used last one is
  // copied. Blocks of another shape or model are refused (kantu::Error).
  void attach(std::span<const std::shared_ptr<const KvBlock>> blocks, int64_t rows);
  // Lets go of every block (the cache is empty again).
  void clear() {
    blocks_.clear();
    attached_rows_ = 0;
  }

 private:
  KvShape shape_;
  int64_t capacity_ = 0;
  int64_t attached_rows_ = 0;  // rows in whole blocks attach() shared: never written here
  // Blocks this cache shares are still written here, past the rows it shared (see top).
  std::vector<std::shared_ptr<KvBlock>> blocks_;
};

}  // namespace kantu::models::blocks
