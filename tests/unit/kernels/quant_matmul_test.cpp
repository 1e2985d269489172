// Every SIMD matmul on block-quantized weights against the scalar reference (dequantize,
// then a double dot product), on shapes that are not multiples of the tiles, 1-3 threads.
// The decode path (n <= 4) quantizes x to int8 blocks of 32, so there the tolerance is the
// worst case of that rounding: |Σ w·(x − x̂)| <= Σ_blocks max|x|/254 · Σ|w|.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>

#include "core/error.h"
#include "kernel_test_util.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"
#include "kernels/ref.h"
#include "support/random_blocks.h"

namespace kantu::kernels {
namespace {


void expect_quant_close(const KernelTable& table, DType dtype, int64_t n, int64_t rows, int64_t cols,
                  bool with_bias, ThreadPool* pool) {
  const uint32_t seed = static_cast<uint32_t>(n * 7919 + rows * 131 + cols) + static_cast<uint32_t>(dtype);
  const std::vector<uint8_t> data = kantu::test::random_blocks(dtype, rows, cols, seed);
  const WeightMatrix m{dtype, rows, cols, data.data()};
  const std::vector<float> x = test::random_floats(static_cast<size_t>(n * cols), seed + 1);
  const std::vector<float> bias = test::random_floats(static_cast<size_t>(rows), seed + 2);
  const float* b = with_bias ? bias.data() : nullptr;
  std::vector<float> want(static_cast<size_t>(n * rows)), got(want.size(), NAN);
  ref::matmul(x.data(), n, m, b, want.data(), nullptr);
  table.matmul(x.data(), n, m, b, got.data(), pool);

  std::vector<float> wrow(static_cast<size_t>(cols));
  int bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(dtype, data.data() + r * dtype_bytes(dtype, cols), wrow.data(), cols);
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = x.data() + i * cols;
      double magnitude = 0, act_rounding = 0;
      for (int64_t c0 = 0; c0 < cols; c0 += 32) {
        double amax = 0, wsum = 0;
        for (int64_t c = c0; c < c0 + 32; ++c) {
          amax = std::max(amax, std::fabs(static_cast<double>(xi[c])));
          wsum += std::fabs(wrow[c]);
          magnitude += std::fabs(static_cast<double>(xi[c]) * wrow[c]);
        }
        act_rounding += amax / 254.0 * wsum;
      }
      const double tol = (n <= 4 ? act_rounding : 0.0) + 1e-5 * (magnitude + 1.0);
      const size_t at = static_cast<size_t>(i * rows + r);
      if (!(std::fabs(got[at] - want[at]) <= tol) && ++bad <= 3) {
        ADD_FAILURE() << isa_name(table.isa) << " " << dtype_name(dtype) << " n=" << n
                      << " rows=" << rows << " cols=" << cols
                      << " threads=" << test::pool_size(pool) << " at (" << i << "," << r
                      << "): got " << got[at] << " want " << want[at] << " tol " << tol;
      }
    }
  }
}

const DType kBlockTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                             DType::kQ6_K};

TEST(QuantMatmul, MatchesReferenceOnOddShapes) {
  for (const KernelTable* table : test::simd_tables()) {
    for (DType dtype : kBlockTypes) {
      const int64_t be = dtype_block_elems(dtype);
      for (int64_t n : {1, 2, 3, 4, 5, 17}) {
        for (int64_t cols : {be, 3 * be, int64_t{be == 32 ? 288 : 512}}) {
          for (int64_t rows : {1, 5, 19, 37}) {
            expect_quant_close(*table, dtype, n, rows, cols, (rows + n) % 2 == 0, nullptr);
          }
        }
      }
    }
  }
}

TEST(QuantMatmul, MatchesReferenceAcrossBlocksAndThreads) {
  // rows > one GEMM task's 128 rows, n > one task's 192 x rows, cols > one 256 slice.
  for (const KernelTable* table : test::simd_tables()) {
    for (ThreadPool* pool : test::pools()) {
      for (DType dtype : kBlockTypes) {
        expect_quant_close(*table, dtype, 1, 301, 768, true, pool);
        expect_quant_close(*table, dtype, 3, 130, 512, false, pool);
        expect_quant_close(*table, dtype, 4, 67, 512, true, pool);
        expect_quant_close(*table, dtype, 200, 131, 768, true, pool);
      }
    }
  }
}

TEST(QuantMatmul, TheDecodePathIsExactOnIntegerActivations) {
  // x already on the int8 grid of each block (max 127 in every block): the quantized-x
  // path loses nothing, so it must match the reference to float rounding.
  for (const KernelTable* table : test::simd_tables()) {
    for (DType dtype : kBlockTypes) {
      const int64_t cols = 512, rows = 7;
      const std::vector<uint8_t> data = kantu::test::random_blocks(dtype, rows, cols, 99);
      const WeightMatrix m{dtype, rows, cols, data.data()};
      std::vector<float> x(cols);
      std::mt19937 rng(5);
      for (int64_t c = 0; c < cols; ++c)
        x[c] = c % 32 == 0 ? 127.f : static_cast<float>(static_cast<int>(rng() % 255) - 127);
      std::vector<float> want(rows), got(rows);
      ref::matmul(x.data(), 1, m, nullptr, want.data(), nullptr);
      table->matmul(x.data(), 1, m, nullptr, got.data(), nullptr);
      for (int64_t r = 0; r < rows; ++r)
        EXPECT_NEAR(got[r], want[r], 1e-4 * (std::fabs(want[r]) + 1)) << dtype_name(dtype);
    }
  }
}

TEST(QuantMatmul, RejectsColumnsThatAreNotWholeBlocks) {
  std::vector<uint8_t> data(4096);
  std::vector<float> x(300), y(4);
  EXPECT_THROW(matmul(x.data(), 1, WeightMatrix{DType::kQ8_0, 2, 48, data.data()}, nullptr,
                      y.data(), nullptr),
               Error);
  EXPECT_THROW(matmul(x.data(), 1, WeightMatrix{DType::kQ4_K, 2, 288, data.data()}, nullptr,
                      y.data(), nullptr),
               Error);
}

}  // namespace
}  // namespace kantu::kernels
