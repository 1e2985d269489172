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
  ref::attention(q.data(), k.data(), v.data(), want.data(), s, nullptr);
  table.attention(q.data(), k.data(), v.data(), got.data(), s, pool);
  int bad = 0;
  for (int64_t i = 0; i < c.n_q; ++i) {
    for (int64_t d = 0; d < s.out_stride; ++d) {
      const size_t at = static_cast<size_t>(i * s.out_stride + d);
      // Outputs are averages of values in [-1, 1]; padding must stay untouched (0).
      if (!(std::fabs(got[at] - want[at]) <= 1e-5) && ++bad <= 3)
        ADD_FAILURE() << isa_name(table.isa) << " n_q=" << c.n_q << " n_kv=" << c.n_kv
                      << " heads=" << c.heads << "/" << c.kv_heads << " hd=" << c.head_dim
                      << " offset=" << c.causal_offset << " threads=" << test::pool_size(pool)
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

}  // namespace
}  // namespace kantu::kernels
