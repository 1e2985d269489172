#include "core/dtype.h"

#include <gtest/gtest.h>

namespace kantu {
namespace {

TEST(DType, PlainTypesHaveElementSizesAndSafetensorsNames) {
  EXPECT_EQ(dtype_size(DType::kBF16), 2u);
  EXPECT_EQ(dtype_size(DType::kF32), 4u);
  EXPECT_FALSE(dtype_is_quantized(DType::kF16));
  EXPECT_EQ(dtype_block_elems(DType::kF32), 1);
  EXPECT_EQ(dtype_bytes(DType::kBF16, 7), 14u);
  DType parsed{};
  ASSERT_TRUE(parse_dtype("BF16", &parsed));
  EXPECT_EQ(parsed, DType::kBF16);
}

// The block sizes are GGUF's (ggml's): a wrong one would misread every GGUF tensor.
TEST(DType, QuantizedTypesUseGgmlBlockLayouts) {
  struct Expect {
    DType dtype;
    int64_t elems;
    size_t bytes;
  };
  for (const Expect& e : {Expect{DType::kQ8_0, 32, 34}, Expect{DType::kQ4_0, 32, 18},
                          Expect{DType::kQ4_K, 256, 144}, Expect{DType::kQ5_K, 256, 176},
                          Expect{DType::kQ6_K, 256, 210}}) {
    SCOPED_TRACE(dtype_name(e.dtype));
    EXPECT_TRUE(dtype_is_quantized(e.dtype));
    EXPECT_EQ(dtype_block_elems(e.dtype), e.elems);
    EXPECT_EQ(dtype_block_bytes(e.dtype), e.bytes);
    EXPECT_EQ(dtype_size(e.dtype), 0u);
    EXPECT_EQ(dtype_bytes(e.dtype, e.elems * 3), e.bytes * 3);
  }
}

TEST(DType, SafetensorsHeadersCannotNameQuantizedTypes) {
  DType parsed = DType::kF32;
  EXPECT_FALSE(parse_dtype("Q8_0", &parsed));
  EXPECT_FALSE(parse_dtype("Q4_K", &parsed));
  EXPECT_EQ(parsed, DType::kF32);
  EXPECT_STREQ(dtype_name(DType::kQ4_K), "Q4_K");
}

}  // namespace
}  // namespace kantu
