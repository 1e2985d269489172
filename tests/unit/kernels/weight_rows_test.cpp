// weight_row_to_f32: every stored type, from data that is not aligned to its element size
// (a tensor inside a mapped file can start at any byte).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/ops.h"
#include "kernels/quant_blocks.h"

namespace kantu::kernels {
namespace {

// The bytes of `values` (2 rows x 3 columns) placed at an odd offset.
template <class T>
std::vector<uint8_t> odd_placed(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(1 + values.size() * sizeof(T));
  std::memcpy(bytes.data() + 1, values.data(), values.size() * sizeof(T));
  return bytes;
}

TEST(WeightRowToF32, ReadsUnalignedFloatRows) {
  const std::vector<uint16_t> bf16 = {f32_to_bf16(1.f), f32_to_bf16(-2.f), f32_to_bf16(0.5f),
                                      f32_to_bf16(3.f), f32_to_bf16(-0.25f), f32_to_bf16(8.f)};
  const std::vector<uint16_t> f16 = {f32_to_f16(1.f), f32_to_f16(-2.f), f32_to_f16(0.5f),
                                     f32_to_f16(3.f), f32_to_f16(-0.25f), f32_to_f16(8.f)};
  const std::vector<float> f32 = {1.f, -2.f, 0.5f, 3.f, -0.25f, 8.f};
  const std::vector<uint8_t> a = odd_placed(bf16), b = odd_placed(f16), c = odd_placed(f32);
  const WeightMatrix mats[] = {{DType::kBF16, 2, 3, a.data() + 1},
                               {DType::kF16, 2, 3, b.data() + 1},
                               {DType::kF32, 2, 3, c.data() + 1}};
  for (const WeightMatrix& m : mats) {
    float row[3];
    weight_row_to_f32(m, 1, row);
    EXPECT_EQ(row[0], 3.f) << dtype_name(m.dtype);
    EXPECT_EQ(row[1], -0.25f) << dtype_name(m.dtype);
    EXPECT_EQ(row[2], 8.f) << dtype_name(m.dtype);
  }
}

TEST(WeightRowToF32, DecodesBlockRowsByTheirDefinition) {
  quant::BlockQ8_0 blocks[2]{};
  blocks[1].d = f32_to_f16(0.5f);
  for (int l = 0; l < 32; ++l) blocks[1].qs[l] = static_cast<int8_t>(l - 16);
  const WeightMatrix m{DType::kQ8_0, 2, 32, blocks};
  float row[32];
  weight_row_to_f32(m, 1, row);
  EXPECT_EQ(row[0], -8.f);
  EXPECT_EQ(row[31], 7.5f);
}

TEST(WeightRowToF32, RejectsRowsOutsideTheMatrix) {
  const float data[2] = {1.f, 2.f};
  const WeightMatrix m{DType::kF32, 1, 2, data};
  float row[2];
  EXPECT_THROW(weight_row_to_f32(m, 1, row), Error);
  EXPECT_THROW(weight_row_to_f32(m, -1, row), Error);
}

}  // namespace
}  // namespace kantu::kernels
