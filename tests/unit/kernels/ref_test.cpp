// The scalar reference against values worked out by hand, and the public ops' argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/ref.h"

namespace kantu::kernels {
namespace {

TEST(RefKernels, MatmulBf16WithBias) {
  // W = [[1, 2, 3], [-1, 0.5, 4]] in bf16 (all exact), x = [[1, 1, 1], [2, 0, -1]].
  std::vector<uint16_t> w;
  for (float f : {1.f, 2.f, 3.f, -1.f, 0.5f, 4.f}) w.push_back(f32_to_bf16(f));
  const float x[] = {1, 1, 1, 2, 0, -1};
  const float bias[] = {10, 20};
  float y[4];
  ref::matmul(x, 2, WeightMatrix{DType::kBF16, 2, 3, w.data()}, bias, y, nullptr);
  EXPECT_FLOAT_EQ(y[0], 16.f);
  EXPECT_FLOAT_EQ(y[1], 23.5f);
  EXPECT_FLOAT_EQ(y[2], 9.f);
  EXPECT_FLOAT_EQ(y[3], 14.f);
}

TEST(RefKernels, MatmulF16AndF32AgreeOnExactValues) {
  const float wf[] = {0.25f, -3.f, 1.5f, 2.f};
  std::vector<uint16_t> wh;
  for (float f : wf) wh.push_back(f32_to_f16(f));
  const float x[] = {4, 1};
  float y32[2], y16[2];
  ref::matmul(x, 1, WeightMatrix{DType::kF32, 2, 2, wf}, nullptr, y32, nullptr);
  ref::matmul(x, 1, WeightMatrix{DType::kF16, 2, 2, wh.data()}, nullptr, y16, nullptr);
  EXPECT_FLOAT_EQ(y32[0], -2.f);
  EXPECT_FLOAT_EQ(y32[1], 8.f);
  EXPECT_FLOAT_EQ(y16[0], y32[0]);
  EXPECT_FLOAT_EQ(y16[1], y32[1]);
}

TEST(RefKernels, Norms) {
  const float x[] = {3, 4};  // mean square 12.5
  const float w[] = {1, 2};
  const float b[] = {0.5f, -0.5f};
  float y[2];
  ref::rms_norm(x, w, 1, 2, 0.f, y);
  EXPECT_NEAR(y[0], 3 / std::sqrt(12.5), 1e-6);
  EXPECT_NEAR(y[1], 8 / std::sqrt(12.5), 1e-6);
  ref::layer_norm(x, w, b, 1, 2, 0.f, y);  // mean 3.5, variance 0.25
  EXPECT_NEAR(y[0], -1 + 0.5, 1e-6);
  EXPECT_NEAR(y[1], 2 - 0.5, 1e-6);
  ref::layer_norm(x, w, nullptr, 1, 2, 0.f, y);
  EXPECT_NEAR(y[0], -1, 1e-6);
}

TEST(RefKernels, Activations) {
  float a[] = {0.f, 1.f, -2.f};
  ref::gelu_erf(a, 3);
  EXPECT_FLOAT_EQ(a[0], 0.f);
  EXPECT_NEAR(a[1], 0.8413447460685429, 1e-7);
  EXPECT_NEAR(a[2], -2 * 0.02275013194817921, 1e-7);
  float t[] = {1.f};
  ref::gelu_tanh(t, 1);
  EXPECT_NEAR(t[0], 0.8411919906082768, 1e-7);
  const float g[] = {1.f, -1.f}, u[] = {2.f, 3.f};
  float o[2];
  ref::silu_mul(g, u, o, 2);
  EXPECT_NEAR(o[0], 2 * 0.7310585786300049, 1e-6);
  EXPECT_NEAR(o[1], 3 * -0.2689414213699951, 1e-6);
}

TEST(RefKernels, RopeRotatesPairs) {
  float x[] = {1, 2, 3, 4};  // pairs (1,3) and (2,4)
  const float c[] = {0, 1}, s[] = {1, 0};  // first pair by 90 degrees, second unchanged
  ref::rope_rotate_half(x, c, s, 4);
  EXPECT_FLOAT_EQ(x[0], -3);
  EXPECT_FLOAT_EQ(x[2], 1);
  EXPECT_FLOAT_EQ(x[1], 2);
  EXPECT_FLOAT_EQ(x[3], 4);
}

TEST(RefKernels, AttentionCausalAndFull) {
  // One head, head_dim 1: q = 1; keys 0, log 3; values 10, 20.
  const float q[] = {1, 1};
  const float k[] = {0, std::log(3.f)};
  const float v[] = {10, 20};
  float out[2];
  AttentionShape s{2, 2, 1, 1, 1, 1, 1, 1, 1.f, 0};
  const float* const kb[] = {k};
  const float* const vb[] = {v};
  const KvBlocks kv{kb, vb, 2};
  ref::attention(q, kv, out, s, nullptr);
  EXPECT_FLOAT_EQ(out[0], 10.f);                            // sees key 0 only
  EXPECT_NEAR(out[1], (10 * 1 + 20 * 3) / 4.0, 1e-5);     // weights 1:3
  s.causal_offset = -1;
  ref::attention(q, kv, out, s, nullptr);
  EXPECT_NEAR(out[0], 17.5, 1e-5);
}

TEST(Ops, RejectsUnsupportedWeightType) {
  const float x[] = {1};
  float y[1];
  const int8_t w[] = {1};
  try {
    matmul(x, 1, WeightMatrix{DType::kI8, 1, 1, w}, nullptr, y, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("I8"), std::string::npos);
  }
}

TEST(Ops, RejectsBadShapes) {
  float x[4] = {};
  const float c[] = {1}, s[] = {0};
  EXPECT_THROW(rope_rotate_half(x, c, s, 3), Error);
  EXPECT_THROW(rms_norm(x, x, 1, 0, 1e-6f, x), Error);
  AttentionShape bad{1, 1, 3, 2, 1, 3, 2, 3, 1.f, -1};  // 3 heads over 2 KV heads
  EXPECT_THROW(attention(x, x, x, x, bad, nullptr), Error);
  AttentionShape narrow{1, 1, 2, 1, 2, 2, 2, 2, 1.f, -1};  // q_stride 2 < 2 heads * 2
  EXPECT_THROW(attention(x, x, x, x, narrow, nullptr), Error);
  const float* const blocks[] = {x, x};
  AttentionShape two{1, 20, 1, 1, 1, 1, 1, 1, 1.f, -1};
  EXPECT_THROW(attention(x, KvBlocks{blocks, blocks, 10}, x, two, nullptr), Error);  // 10 % 16
}

TEST(Dispatch, ParsesIsaNamesAndAlwaysHasScalar) {
  Isa isa;
  EXPECT_TRUE(parse_isa("avx2", &isa));
  EXPECT_EQ(isa, Isa::kAvx2);
  EXPECT_FALSE(parse_isa("sse9", &isa));
  ASSERT_NE(kernels_for(Isa::kScalar), nullptr);
  EXPECT_EQ(kernels_for(Isa::kScalar)->isa, Isa::kScalar);
  if (isa_supported(Isa::kAvx2)) {
    ASSERT_NE(kernels_for(Isa::kAvx2), nullptr);
  }
}

}  // namespace
}  // namespace kantu::kernels
