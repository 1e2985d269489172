// SIMD attention against the scalar reference: vision (no mask) and causal prefill with
// GQA and a cache offset, head sizes on and off the vector width, padded row strides, and
// key counts that cross the key blocks, at 1-3 threads.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/ref.h"

namespace kantu::kernels {
namespace {

struct Case {
  int64_t n_q, n_kv;
  int heads, kv_heads, head_dim;
  int64_t causal_offset;
  int64_t pad = 0;       // extra floats at the end of each row (fused or strided layouts)
  float q_scale = 1.f;  // larger = sharper softmax
  int64_t block_rows = 0;  // > 0: the SIMD kernel reads K/V in blocks of this many rows
};

// The rows of `rows` (n x stride) copied into blocks of `block_rows` rows that lie in
// memory in reverse order, as a KV cache's shared blocks may.
struct Blocked {
  std::vector<float> storage;
  std::vector<const float*> blocks;
  Blocked(const std::vector<float>& rows, int64_t n, int64_t stride, int64_t block_rows) {
    const int64_t n_blocks = (n + block_rows - 1) / block_rows;
    storage.assign(n_blocks * block_rows * stride, -99.f);  // rows past n are garbage
    for (int64_t b = 0; b < n_blocks; ++b) {
      float* dst = storage.data() + (n_blocks - 1 - b) * block_rows * stride;
      blocks.push_back(dst);
      for (int64_t r = 0; r < block_rows && b * block_rows + r < n; ++r)
        std::copy_n(rows.data() + (b * block_rows + r) * stride, stride, dst + r * stride);
    }
  }
};

void check(const KernelTable& table, const Case& c, ThreadPool* pool) {
  const int64_t qw = int64_t{c.heads} * c.head_dim, kvw = int64_t{c.kv_heads} * c.head_dim;
  const AttentionShape s{c.n_q,    c.n_kv,         c.heads,        c.kv_heads,
                         c.head_dim, qw + c.pad,   kvw + 2 * c.pad, qw + 3 * c.pad,
                         1.f / std::sqrt(static_cast<float>(c.head_dim)), c.causal_offset};
  const uint32_t seed = static_cast<uint32_t>(c.n_q * 31 + c.n_kv * 7 + c.head_dim);
  std::vector<float> q = test::random_floats(c.n_q * s.q_stride, seed, -c.q_scale, c.q_scale);
  const std::vector<float> k = test::random_floats(c.n_kv * s.kv_stride, seed + 1);
  const std::vector<float> v = test::random_floats(c.n_kv * s.kv_stride, seed + 2);
  std::vector<float> want(c.n_q * s.out_stride, 0.f), got(want.size(), 0.f);
  const float* const k_one[] = {k.data()};
  const float* const v_one[] = {v.data()};
  ref::attention(q.data(), KvBlocks{k_one, v_one, c.n_kv}, want.data(), s, nullptr);
  if (c.block_rows > 0) {
    const Blocked kb(k, c.n_kv, s.kv_stride, c.block_rows), vb(v, c.n_kv, s.kv_stride, c.block_rows);
    table.attention(q.data(), KvBlocks{kb.blocks.data(), vb.blocks.data(), c.block_rows},
                    got.data(), s, pool);
  } else {
    table.attention(q.data(), KvBlocks{k_one, v_one, c.n_kv}, got.data(), s, pool);
  }
  int bad = 0;
  for (int64_t i = 0; i < c.n_q; ++i) {
    for (int64_t d = 0; d < s.out_stride; ++d) {
      const size_t at = static_cast<size_t>(i * s.out_stride + d);
      // Outputs are averages of values in [-1, 1]; padding must stay untouched (0).
      if (!(std::fabs(got[at] - want[at]) <= 1e-5) && ++bad <= 3)
        ADD_FAILURE() << isa_name(table.isa) << " n_q=" << c.n_q << " n_kv=" << c.n_kv
                      << " heads=" << c.heads << "/" << c.kv_heads << " hd=" << c.head_dim
                      << " offset=" << c.causal_offset << " blocks of " << c.block_rows
                      << " threads=" << test::pool_size(pool)
                      << " at (" << i << "," << d << "): got " << got[at] << " want "
                      << want[at];
    }
  }
}

TEST(Attention, VisionNoMask) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : {1, 7, 33, 130}) {
      for (int hd : {8, 64, 72, 20}) {  // 72: 4.5 tiles of 16; 20: not a multiple of 8
        check(*t, Case{n, n, 2, 2, hd, -1}, nullptr);
      }
    }
  }
}

TEST(Attention, CausalPrefillWithGqaAndOffset) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t offset : {0, 3, 70}) {
      for (int64_t n_q : {1, 2, 5, 50}) {
        check(*t, Case{n_q, offset + n_q, 4, 2, 32, offset}, nullptr);
        check(*t, Case{n_q, offset + n_q, 4, 1, 128, offset, 5}, nullptr);
      }
    }
    // A cache longer than the visible keys: the mask, not n_kv, must bound each query.
    check(*t, Case{9, 100, 2, 1, 16, 10}, nullptr);
  }
}

TEST(Attention, SharpSoftmaxAndThreads) {
  for (const KernelTable* t : test::simd_tables()) {
    for (ThreadPool* pool : test::pools()) {
      check(*t, Case{97, 97, 3, 3, 64, -1, 3, 8.f}, pool);
      check(*t, Case{61, 200, 4, 2, 32, 139, 0, 8.f}, pool);
      check(*t, Case{1, 300, 16, 8, 128, 299}, pool);  // one decode step
    }
  }
}

TEST(Attention, KeysAndValuesInBlocks) {
  // The reference reads contiguous K/V; every table (scalar included) reads the same rows
  // scattered over blocks: decode steps and prefill chunks over a paged KV cache.
  std::vector<const KernelTable*> tables = test::simd_tables();
  tables.push_back(kernels_for(Isa::kScalar));
  for (const KernelTable* t : tables) {
    for (ThreadPool* pool : test::pools()) {
      for (int64_t rows : {16, 64}) {
        check(*t, Case{1, 200, 8, 4, 64, 199, 0, 1.f, rows}, pool);   // decode
        check(*t, Case{37, 150, 4, 2, 64, 113, 2, 4.f, rows}, pool);   // prefill chunk
        check(*t, Case{5, 64, 2, 1, 32, 59, 0, 1.f, rows}, pool);      // blocks just full
      }
    }
  }
}

}  // namespace
}  // namespace kantu::kernels
