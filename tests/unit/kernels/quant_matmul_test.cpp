// Every SIMD matmul on block-quantized weights against the scalar reference (dequantize,
// then a double dot product of x as each activation precision rounds it), on shapes that
// are not multiples of the tiles, 1-3 threads.
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


// The reference (which rounds x as the activation precision says: int8 quantizes it per
// block of 32 exactly as the kernels do) once per case, then every table and thread count:
// |y - ref| <= 1e-5 (Σ |x̂ w| + 1), float32 accumulation of the same products.
void expect_quant_close(DType dtype, Activations acts, int64_t n, int64_t rows, int64_t cols,
                        bool with_bias, const std::vector<ThreadPool*>& pools) {
  const uint32_t seed = static_cast<uint32_t>(n * 7919 + rows * 131 + cols) + static_cast<uint32_t>(dtype);
  const std::vector<uint8_t> data = kantu::test::random_blocks(dtype, rows, cols, seed);
  const WeightMatrix m{dtype, rows, cols, data.data(), acts};
  const std::vector<float> x = test::random_floats(static_cast<size_t>(n * cols), seed + 1);
  const std::vector<float> bias = test::random_floats(static_cast<size_t>(rows), seed + 2);
  const float* b = with_bias ? bias.data() : nullptr;
  std::vector<float> want(static_cast<size_t>(n * rows));
  ref::matmul(x.data(), n, m, b, want.data(), nullptr);
  std::vector<float> xr(x.size());
  round_activations(acts, x.data(), n, cols, xr.data());
  std::vector<double> tol(want.size());
  std::vector<float> wrow(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(dtype, data.data() + r * dtype_bytes(dtype, cols), wrow.data(), cols);
    for (int64_t i = 0; i < n; ++i) {
      double magnitude = 0;
      for (int64_t c = 0; c < cols; ++c) magnitude += std::fabs(double(xr[i * cols + c]) * wrow[c]);
      tol[static_cast<size_t>(i * rows + r)] = 1e-5 * (magnitude + 1.0);
    }
  }
  for (const KernelTable* table : test::simd_tables()) {
    for (ThreadPool* pool : pools) {
      std::vector<float> got(want.size(), NAN);
      table->matmul(x.data(), n, m, b, got.data(), pool);
      int bad = 0;
      for (size_t at = 0; at < want.size(); ++at) {
        if (!(std::fabs(got[at] - want[at]) <= tol[at]) && ++bad <= 3) {
          ADD_FAILURE() << isa_name(table->isa) << " " << dtype_name(dtype) << " "
                        << activations_name(acts) << " n=" << n << " rows=" << rows
                        << " cols=" << cols << " threads=" << test::pool_size(pool) << " at ("
                        << at / rows << "," << at % rows << "): got " << got[at] << " want "
                        << want[at] << " tol " << tol[at];
        }
      }
    }
  }
}

const DType kBlockTypes[] = {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ5_K,
                             DType::kQ6_K};
const Activations kQuantModes[] = {Activations::kF32, Activations::kBF16, Activations::kInt8};

TEST(QuantMatmul, MatchesReferenceOnOddShapes) {
  for (DType dtype : kBlockTypes) {
    const int64_t be = dtype_block_elems(dtype);
    for (Activations acts : kQuantModes) {
      for (int64_t n : {1, 2, 3, 4, 5, 17}) {
        for (int64_t cols : {be, 3 * be, int64_t{be == 32 ? 288 : 512}}) {
          for (int64_t rows : {1, 5, 19, 37}) {
            expect_quant_close(dtype, acts, n, rows, cols, (rows + n) % 2 == 0, {nullptr});
          }
        }
      }
    }
  }
}

TEST(QuantMatmul, MatchesReferenceAcrossBlocksAndThreads) {
  // rows > one GEMM task's 128 rows, n > one tile, cols > one 512-column slice.
  for (DType dtype : kBlockTypes) {
    for (Activations acts : kQuantModes) {
      expect_quant_close(dtype, acts, 1, 301, 768, true, test::pools());
      expect_quant_close(dtype, acts, 3, 130, 512, false, test::pools());
      expect_quant_close(dtype, acts, 4, 67, 512, true, test::pools());
      expect_quant_close(dtype, acts, 200, 131, 1280, true, test::pools());
    }
  }
}

TEST(QuantMatmul, Int8PathsAreExactOnIntegerActivations) {
  // x already on the int8 grid of each block (max 127 in every block): quantizing it loses
  // nothing, so the int8 GEMV (1 row) and GEMM (6 rows) must match the float32 reference.
  for (DType dtype : kBlockTypes) {
    const int64_t cols = 512, rows = 7;
    const std::vector<uint8_t> data = kantu::test::random_blocks(dtype, rows, cols, 99);
    for (int64_t n : {1, 6}) {
      std::vector<float> x(static_cast<size_t>(n * cols));
      std::mt19937 rng(5);
      for (int64_t c = 0; c < n * cols; ++c)
        x[c] = c % 32 == 0 ? 127.f : static_cast<float>(static_cast<int>(rng() % 255) - 127);
      std::vector<float> want(static_cast<size_t>(n * rows)), got(want.size());
      ref::matmul(x.data(), n, WeightMatrix{dtype, rows, cols, data.data()}, nullptr, want.data(),
                  nullptr);
      for (const KernelTable* table : test::simd_tables()) {
        table->matmul(x.data(), n, WeightMatrix{dtype, rows, cols, data.data(), Activations::kInt8},
                      nullptr, got.data(), nullptr);
        for (size_t i = 0; i < want.size(); ++i)
          EXPECT_NEAR(got[i], want[i], 1e-4 * (std::fabs(want[i]) + 1))
              << isa_name(table->isa) << " " << dtype_name(dtype) << " n=" << n;
      }
    }
  }
}

TEST(QuantMatmul, Int8ActivationsRoundPerBlockOf32) {
  // The reference's definition: scale max|x| / 127 per block, values rounded to nearest even.
  std::vector<float> x(64, 0.f), out(64);
  x[0] = 127.f;
  x[1] = 2.5f;    // 2.5 · 127/127: a tie, to 2
  x[2] = -3.49f;  // to -3
  x[32] = 1.f;    // the second block's scale is 1/127: 0.5 becomes 63.5/127 -> 64/127
  x[33] = 0.5f;
  round_activations(Activations::kInt8, x.data(), 1, 64, out.data());
  EXPECT_EQ(out[0], 127.f);
  EXPECT_EQ(out[1], 2.f);
  EXPECT_EQ(out[2], -3.f);
  EXPECT_EQ(out[32], 1.f);
  EXPECT_FLOAT_EQ(out[33], 64.f / 127.f);
  EXPECT_THROW(round_activations(Activations::kInt8, x.data(), 2, 31, out.data()), Error);
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
