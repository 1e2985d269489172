// Every SIMD matmul against the scalar reference: each weight type, GEMV and GEMM paths,
// shapes that are not multiples of the vector width or of the blocking, 1-3 threads.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_test_util.h"
#include "kernels/ref.h"

namespace kantu::kernels {
namespace {

using test::pool_size;

struct Weights {
  std::vector<float> f32;
  std::vector<uint16_t> u16;
  WeightMatrix matrix(DType dtype, int64_t rows, int64_t cols) const {
    return WeightMatrix{dtype, rows, cols,
                        dtype == DType::kF32 ? static_cast<const void*>(f32.data())
                                             : static_cast<const void*>(u16.data())};
  }
};

Weights make_weights(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  Weights w;
  w.f32 = test::random_floats(static_cast<size_t>(rows * cols), seed);
  if (dtype == DType::kBF16)
    for (float f : w.f32) w.u16.push_back(f32_to_bf16(f));
  if (dtype == DType::kF16)
    for (float f : w.f32) w.u16.push_back(f32_to_f16(f));
  return w;
}

// One product: the reference's result and, per output, the size of its terms. Computed once
// and held against every table (and thread count).
struct Expected {
  std::vector<float> x, bias, want, scale;
};

Expected expected_for(const Weights& w, DType dtype, Activations acts, int64_t n, int64_t rows,
                      int64_t cols, bool with_bias, uint32_t seed) {
  Expected e;
  WeightMatrix m = w.matrix(dtype, rows, cols);
  m.activations = acts;
  e.x = test::random_floats(static_cast<size_t>(n * cols), seed + 1);
  if (with_bias) e.bias = test::random_floats(static_cast<size_t>(rows), seed + 2);
  e.want.resize(static_cast<size_t>(n * rows));
  ref::matmul(e.x.data(), n, m, with_bias ? e.bias.data() : nullptr, e.want.data(), nullptr);
  // Magnitudes: the reference on |x| and |W|.
  std::vector<float> wabs(w.f32.size());
  for (size_t i = 0; i < wabs.size(); ++i)
    wabs[i] = std::fabs(dtype == DType::kBF16   ? bf16_to_f32(w.u16[i])
                        : dtype == DType::kF16 ? f16_to_f32(w.u16[i])
                                               : w.f32[i]);
  std::vector<float> xabs(e.x.size());
  for (size_t i = 0; i < e.x.size(); ++i) xabs[i] = std::fabs(e.x[i]);
  e.scale.resize(e.want.size());
  ref::matmul(xabs.data(), n, WeightMatrix{DType::kF32, rows, cols, wabs.data()}, nullptr,
              e.scale.data(), nullptr);
  return e;
}

// |y - ref| <= tol * (sum_c |x_c w_c| + |bias|): relative to the size of the terms, which
// is what float32 accumulation can promise when terms cancel. The reference rounds x as
// the activation precision says, so the kernels must match it that closely in every mode.
void expect_close(DType dtype, Activations acts, int64_t n, int64_t rows, int64_t cols,
                  bool with_bias, const std::vector<ThreadPool*>& pools) {
  const uint32_t seed = static_cast<uint32_t>(n * 7919 + rows * 131 + cols);
  const Weights w = make_weights(dtype, rows, cols, seed);
  WeightMatrix m = w.matrix(dtype, rows, cols);
  m.activations = acts;
  const Expected e = expected_for(w, dtype, acts, n, rows, cols, with_bias, seed);
  const float* b = with_bias ? e.bias.data() : nullptr;
  for (const KernelTable* table : test::simd_tables()) {
    for (ThreadPool* pool : pools) {
      std::vector<float> got(e.want.size(), NAN);
      table->matmul(e.x.data(), n, m, b, got.data(), pool);
      int bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t r = 0; r < rows; ++r) {
          const size_t at = static_cast<size_t>(i * rows + r);
          const double tol = 1e-5 * (e.scale[at] + (b ? std::fabs(b[r]) : 0.0)) + 1e-30;
          if (!(std::fabs(got[at] - e.want[at]) <= tol) && ++bad <= 3) {
            ADD_FAILURE() << isa_name(table->isa) << " " << dtype_name(dtype) << " "
                          << activations_name(acts) << " n=" << n << " rows=" << rows
                          << " cols=" << cols << " threads=" << pool_size(pool) << " at (" << i
                          << "," << r << "): got " << got[at] << " want " << e.want[at];
          }
        }
      }
    }
  }
}

const Activations kFloatWeightModes[] = {Activations::kF32, Activations::kBF16, Activations::kInt8};

TEST(Matmul, MatchesReferenceOnOddShapes) {
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    for (Activations acts : kFloatWeightModes) {
      for (int64_t n : {1, 2, 3, 4, 7, 33}) {
        for (int64_t cols : {1, 15, 17, 67, 1000}) {
          for (int64_t rows : {1, 5, 19, 37}) {
            expect_close(dtype, acts, n, rows, cols, (rows + n) % 2 == 0, {nullptr});
          }
        }
      }
    }
  }
}

TEST(Matmul, MatchesReferenceAcrossBlocksAndThreads) {
  // rows > one task's 128 weight rows, n > one task's x rows and one tile, cols > one slice.
  for (DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    for (Activations acts : {Activations::kF32, Activations::kBF16}) {
      expect_close(dtype, acts, 1, 301, 520, true, test::pools());
      expect_close(dtype, acts, 3, 130, 263, false, test::pools());
      expect_close(dtype, acts, 200, 131, 1100, true, test::pools());
    }
  }
}

TEST(Matmul, Bf16ActivationsRoundXAndInt8MeansBf16ForFloatWeights) {
  // The reference itself: bf16 rounds x to nearest even before exact products, and float
  // weights have no int8 form.
  const std::vector<float> x = {1.0f + 1.0f / 256, 3.0f};  // the first is a bf16 tie
  const float w[] = {1.f, 0.f};
  WeightMatrix m{DType::kF32, 1, 2, w};
  float y = 0.f;
  ref::matmul(x.data(), 1, m, nullptr, &y, nullptr);
  EXPECT_EQ(y, 1.0f + 1.0f / 256);
  m.activations = Activations::kBF16;
  ref::matmul(x.data(), 1, m, nullptr, &y, nullptr);
  EXPECT_EQ(y, 1.0f);  // ties to even
  m.activations = Activations::kInt8;
  EXPECT_EQ(effective_activations(m), Activations::kBF16);
  ref::matmul(x.data(), 1, m, nullptr, &y, nullptr);
  EXPECT_EQ(y, 1.0f);
}

TEST(Matmul, EmptyColumnsGiveTheBias) {
  const float bias[] = {1.5f, -2.f, 3.f};
  for (const KernelTable* table : test::simd_tables()) {
    for (int64_t n : {1, 5}) {
      std::vector<float> y(static_cast<size_t>(n * 3), NAN);
      const float dummy = 0.f;
      table->matmul(&dummy, n, WeightMatrix{DType::kBF16, 3, 0, &dummy}, bias, y.data(), nullptr);
      for (int64_t i = 0; i < n; ++i)
        for (int r = 0; r < 3; ++r) EXPECT_EQ(y[i * 3 + r], bias[r]);
    }
  }
}

TEST(Matmul, PublicEntryPointUsesTheChosenTable) {
  const Weights w = make_weights(DType::kBF16, 9, 33, 5);
  const WeightMatrix m = w.matrix(DType::kBF16, 9, 33);
  const std::vector<float> x = test::random_floats(5 * 33, 6);
  std::vector<float> want(45), got(45);
  ref::matmul(x.data(), 5, m, nullptr, want.data(), nullptr);
  matmul(x.data(), 5, m, nullptr, got.data(), test::pools()[1]);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4);
}

TEST(Matmul, EachAvx512VariantHasItsOwnMatmul) {
  // The emulated tables stand for AVX-512 F+BW+VL, +VNNI and +VNNI+BF16: the tests above
  // only cover the VNNI and BF16 kernels if fill_table really picks them by the features.
  const std::vector<const KernelTable*> tables = test::emulated_avx512_tables();
  if (tables.empty()) GTEST_SKIP() << "the emulated AVX-512 kernels need an AVX2 CPU";
  ASSERT_EQ(tables.size(), 3u);
  EXPECT_NE(tables[0]->matmul, tables[1]->matmul);
  EXPECT_NE(tables[1]->matmul, tables[2]->matmul);
  EXPECT_NE(tables[0]->matmul, tables[2]->matmul);
  EXPECT_NE(tables[0]->matmul, kernels_for(Isa::kAvx2)->matmul);
}

}  // namespace
}  // namespace kantu::kernels
