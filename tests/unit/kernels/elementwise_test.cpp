// SIMD norms, activations, add and RoPE against the scalar reference, on lengths that are
// not multiples of the vector width. Tolerances are relative (a few float ulps); the
// reference computes in double.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/ref.h"

namespace kantu::kernels {
namespace {

constexpr int64_t kLengths[] = {1, 15, 17, 67, 1000};

void expect_rel(const std::vector<float>& got, const std::vector<float>& want, double rel,
                double abs, const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = rel * std::fabs(want[i]) + abs;
    if (!(std::fabs(got[i] - want[i]) <= tol) && ++bad <= 3)
      ADD_FAILURE() << what << " [" << i << "] of " << got.size() << ": got " << got[i]
                    << " want " << want[i];
  }
}

// Relative error of a few ulps times the condition number of the function at x: deep in
// the negative tail the result is e^(-c·x^2) or e^(-c·x^3) tiny, and the float rounding
// of x alone moves it by that factor.
void expect_gelu_close(const std::vector<float>& x, const std::vector<float>& got,
                       const std::vector<float>& want, bool cubic, const std::string& what) {
  int bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ax = std::fabs(x[i]);
    const double condition = cubic ? 1 + 0.25 * ax * ax * ax : 1 + ax * ax;
    const double tol = 1e-6 * condition * std::fabs(want[i]) + 1e-37;  // e^x clamps near FLT_MAX
    if (!(std::fabs(got[i] - want[i]) <= tol) && ++bad <= 3)
      ADD_FAILURE() << what << " x=" << x[i] << ": got " << got[i] << " want " << want[i];
  }
}

TEST(Elementwise, GeluTanhMatchesReference) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : kLengths) {
      const std::vector<float> x = test::random_floats(n, 11 + n, -12.f, 12.f);
      std::vector<float> want = x, got = x;
      ref::gelu_tanh(want.data(), n);
      t->gelu_tanh(got.data(), n);
      expect_gelu_close(x, got, want, true, "gelu_tanh n=" + std::to_string(n));
    }
  }
}

TEST(Elementwise, GeluErfMatchesReference) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : kLengths) {
      const std::vector<float> x = test::random_floats(n, 13 + n, -12.f, 12.f);
      std::vector<float> want = x, got = x;
      ref::gelu_erf(want.data(), n);
      t->gelu_erf(got.data(), n);
      expect_gelu_close(x, got, want, false, "gelu_erf n=" + std::to_string(n));
    }
  }
}

TEST(Elementwise, SiluMulMatchesReferenceIncludingHugeGates) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : kLengths) {
      std::vector<float> gate = test::random_floats(n, 17 + n, -30.f, 30.f);
      if (n > 2) gate[1] = 200.f, gate[2] = -200.f;  // e^x clamping on both sides
      const std::vector<float> up = test::random_floats(n, 19 + n);
      std::vector<float> want(n), got(n, NAN);
      ref::silu_mul(gate.data(), up.data(), want.data(), n);
      t->silu_mul(gate.data(), up.data(), got.data(), n);
      expect_rel(got, want, 2e-6, 1e-35, "silu_mul n=" + std::to_string(n));
    }
  }
}

TEST(Elementwise, QuickGeluAndSiluMatchReferenceIncludingHugeInputs) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : kLengths) {
      std::vector<float> x = test::random_floats(n, 23 + n, -30.f, 30.f);
      if (n > 2) x[1] = 200.f, x[2] = -200.f;  // e^x clamping on both sides
      for (const bool quick : {true, false}) {
        std::vector<float> want = x, got = x;
        (quick ? ref::quick_gelu : ref::silu)(want.data(), n);
        (quick ? t->quick_gelu : t->silu)(got.data(), n);
        // In the negative tail the result is ~x·e^(a·x): the float rounding of a·x alone
        // moves it by a relative |a·x|·ulp.
        for (int64_t i = 0; i < n; ++i) {
          const double tol = 2e-6 * (1 + 1.702 * std::fabs(x[i])) * std::fabs(want[i]) + 1e-35;
          EXPECT_LE(std::fabs(got[i] - want[i]), tol)
              << (quick ? "quick_gelu" : "silu") << " x=" << x[i] << " n=" << n;
        }
      }
    }
  }
  std::vector<float> one = {1.f};
  ref::quick_gelu(one.data(), 1);
  EXPECT_NEAR(one[0], 1.0 / (1.0 + std::exp(-1.702)), 1e-7);  // the definition, not the kernel
}

TEST(Elementwise, AddIsExactAndMayAlias) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t n : kLengths) {
      const std::vector<float> a = test::random_floats(n, 23 + n), b = test::random_floats(n, 29);
      std::vector<float> want(n), got = a;
      ref::add(a.data(), b.data(), want.data(), n);
      t->add(got.data(), b.data(), got.data(), n);  // out aliases a
      expect_rel(got, want, 0, 0, "add n=" + std::to_string(n));
    }
  }
}

TEST(Elementwise, RopeMatchesReference) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t head_dim : {2, 18, 34, 64, 128, 72}) {
      const int64_t half = head_dim / 2;
      std::vector<float> want = test::random_floats(head_dim, 31 + head_dim), got = want;
      std::vector<float> angle = test::random_floats(half, 37, -100.f, 100.f), c(half), s(half);
      for (int64_t d = 0; d < half; ++d) c[d] = std::cos(angle[d]), s[d] = std::sin(angle[d]);
      ref::rope_rotate_half(want.data(), c.data(), s.data(), head_dim);
      t->rope_rotate_half(got.data(), c.data(), s.data(), head_dim);
      expect_rel(got, want, 1e-6, 1e-6, "rope head_dim=" + std::to_string(head_dim));
    }
  }
}

TEST(Norms, RmsNormMatchesReference) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t dim : kLengths) {
      const int64_t n = 3;
      const std::vector<float> x = test::random_floats(n * dim, 41 + dim, -4.f, 4.f);
      const std::vector<float> w = test::random_floats(dim, 43, 0.5f, 1.5f);
      std::vector<float> want(n * dim), got(n * dim, NAN);
      ref::rms_norm(x.data(), w.data(), n, dim, 1e-6f, want.data());
      t->rms_norm(x.data(), w.data(), n, dim, 1e-6f, got.data());
      expect_rel(got, want, 1e-6, 1e-7, "rms_norm dim=" + std::to_string(dim));
    }
  }
}

TEST(Norms, LayerNormMatchesReferenceWithLargeMean) {
  for (const KernelTable* t : test::simd_tables()) {
    for (int64_t dim : kLengths) {
      for (bool with_bias : {true, false}) {
        const int64_t n = 2;
        // An offset of 100 on unit noise: a one-pass float variance would lose digits.
        const std::vector<float> x = test::random_floats(n * dim, 47 + dim, 99.f, 101.f);
        const std::vector<float> w = test::random_floats(dim, 53, 0.5f, 1.5f);
        const std::vector<float> b = test::random_floats(dim, 59);
        std::vector<float> want(n * dim), got(n * dim, NAN);
        const float* bias = with_bias ? b.data() : nullptr;
        ref::layer_norm(x.data(), w.data(), bias, n, dim, 1e-6f, want.data());
        t->layer_norm(x.data(), w.data(), bias, n, dim, 1e-6f, got.data());
        // x - mean loses the digits of 100 in float: ~1e-5 absolute after normalizing.
        expect_rel(got, want, 1e-5, 3e-5, "layer_norm dim=" + std::to_string(dim));
      }
    }
  }
}

}  // namespace
}  // namespace kantu::kernels
