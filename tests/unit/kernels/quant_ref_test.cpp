// The scalar definition of every block type against blocks decoded by hand (values worked
// out from ggml's layout description, not from our decoder), and the two quantizers on
// inputs whose result is known.
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

namespace kantu::kernels {
namespace {

using namespace quant;

constexpr uint16_t kHalf = 0x3800, kQuarter = 0x3400, kOne = 0x3C00, kTwo = 0x4000;

TEST(QuantRef, Q8_0IsScaleTimesByte) {
  BlockQ8_0 b{};
  b.d = kHalf;
  for (int l = 0; l < 32; ++l) b.qs[l] = static_cast<int8_t>(l - 16);
  float y[32];
  dequantize_row(DType::kQ8_0, &b, y, 32);
  EXPECT_EQ(y[0], -8.f);
  EXPECT_EQ(y[16], 0.f);
  EXPECT_EQ(y[31], 7.5f);
}

TEST(QuantRef, Q4_0LowNibblesFirstHighNibblesSecond) {
  BlockQ4_0 b{};
  b.d = kQuarter;
  b.qs[0] = 0xF0;  // value 0: q 0; value 16: q 15
  b.qs[3] = 0x93;  // value 3: q 3; value 19: q 9
  float y[32];
  dequantize_row(DType::kQ4_0, &b, y, 32);
  EXPECT_EQ(y[0], -2.f);
  EXPECT_EQ(y[16], 1.75f);
  EXPECT_EQ(y[3], -1.25f);
  EXPECT_EQ(y[19], 0.25f);
  EXPECT_EQ(y[1], -2.f);  // q 0
}

// Scales chosen so sub-block 0 uses the low-6-bit form and sub-block 5 the split form:
// sc0 = 2, m0 = 3; sc5 = 37 = 0b10'0101 (top bits 2 in byte 1, low nibble 5 in byte 9),
// m5 = 50 = 0b11'0010 (top bits 3 in byte 5, low nibble 2 in byte 9's high half).
void fill_k_scales(uint8_t scales[12]) {
  const uint8_t packed[12] = {2, 0x80, 0, 0, 3, 0xC0, 0, 0, 0, 0x25, 0, 0};
  for (int i = 0; i < 12; ++i) scales[i] = packed[i];
}

TEST(QuantRef, Q4_KScalesMinsAndNibbles) {
  BlockQ4_K b{};
  b.d = kOne;
  b.dmin = kHalf;
  fill_k_scales(b.scales);
  b.qs[0] = 0x07;       // sub-block 0 (low nibbles of bytes 0..31), value 0: q 7
  b.qs[64 + 4] = 0xA0;  // sub-block 5 (high nibbles of bytes 64..95), value 4: q 10
  std::vector<float> y(256);
  dequantize_row(DType::kQ4_K, &b, y.data(), 256);
  EXPECT_EQ(y[0], 1.f * 2 * 7 - 0.5f * 3);     // 12.5
  EXPECT_EQ(y[1], -1.5f);                      // q 0: only the min
  EXPECT_EQ(y[32], 0.f);                       // sub-block 1: scale and min 0
  EXPECT_EQ(y[164], 1.f * 37 * 10 - 0.5f * 50);  // 345
}

TEST(QuantRef, KScaleWordsMatchTheByteUnpacking) {
  uint32_t state = 12345;
  for (int trial = 0; trial < 2000; ++trial) {
    uint8_t packed[12];
    for (uint8_t& b : packed) b = static_cast<uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
    uint8_t sc[8], m[8];
    unpack_k_scales(packed, sc, m);
    uint64_t sc_word, m_word;
    unpack_k_scales_words(packed, &sc_word, &m_word);
    for (int j = 0; j < 8; ++j) {
      ASSERT_EQ(static_cast<uint8_t>(sc_word >> (8 * j)), sc[j]) << "trial " << trial << " j " << j;
      ASSERT_EQ(static_cast<uint8_t>(m_word >> (8 * j)), m[j]) << "trial " << trial << " j " << j;
    }
  }
}

TEST(QuantRef, Q5_KAddsTheFifthBit) {
  BlockQ5_K b{};
  b.d = kOne;
  b.dmin = kHalf;
  fill_k_scales(b.scales);
  b.qs[0] = 0x07;
  b.qs[64 + 4] = 0xA0;
  b.qh[0] = 1 << 0;  // value 0 of sub-block 0: +16
  b.qh[4] = 1 << 5;  // value 4 of sub-block 5: +16
  std::vector<float> y(256);
  dequantize_row(DType::kQ5_K, &b, y.data(), 256);
  EXPECT_EQ(y[0], 2.f * 23 - 1.5f);      // 44.5
  EXPECT_EQ(y[164], 37.f * 26 - 25.f);   // 937
  EXPECT_EQ(y[1], -1.5f);
}

TEST(QuantRef, Q6_KSixBitsSignedScalesPerSixteen) {
  BlockQ6_K b{};
  b.d = kHalf;
  b.scales[0] = 3;
  b.scales[1] = -2;
  b.scales[15] = 5;
  b.ql[0] = 0x05;        // value 0: low 4 bits 5
  b.qh[0] = 0b10;        //          top 2 bits 2 -> q 37
  b.ql[113] = 0xC0;      // value 128 + 96 + 17: high nibble of ql[64 + 32 + 17] = 12
  b.qh[49] = 0b11000000; //          bits 6-7 of qh[32 + 17] = 3 -> q 60
  std::vector<float> y(256);
  dequantize_row(DType::kQ6_K, &b, y.data(), 256);
  EXPECT_EQ(y[0], 0.5f * 3 * (37 - 32));    // 7.5
  EXPECT_EQ(y[20], 0.5f * -2 * (0 - 32));   // 32: second scale of the first 32
  EXPECT_EQ(y[241], 0.5f * 5 * (60 - 32));  // 70
  EXPECT_EQ(y[224], 0.f);                   // scale 14 is 0
}

TEST(QuantRef, QuantizeQ8_0RoundsToNearest) {
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;
  x[1] = -63.5f;  // halfway: away from zero, as roundf
  x[2] = 0.4f;
  BlockQ8_0 b{};
  quantize_row(DType::kQ8_0, x.data(), &b, 32);
  EXPECT_EQ(b.d, kOne);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], -64);
  EXPECT_EQ(b.qs[2], 0);
}

TEST(QuantRef, QuantizeQ4_0MapsTheExtremeToMinusEight) {
  std::vector<float> x(32, 0.f);
  x[0] = -16.f;  // d = -16 / -8 = 2
  x[1] = 8.f;    // 8/2 + 8 = 12
  x[16] = 3.f;   // 1.5 + 8 -> 10 (rounds half up)
  x[17] = -1.1f; // -0.55 + 8 -> 7
  BlockQ4_0 b{};
  quantize_row(DType::kQ4_0, x.data(), &b, 32);
  EXPECT_EQ(b.d, kTwo);
  EXPECT_EQ(b.qs[0], 0xA0);
  EXPECT_EQ(b.qs[1], 0x7C);
  EXPECT_EQ(b.qs[2], 0x88);  // zeros -> q 8
  // A positive extreme flips the sign of d and still decodes to itself.
  x.assign(32, 0.f);
  x[5] = 16.f;
  quantize_row(DType::kQ4_0, x.data(), &b, 32);
  float y[32];
  dequantize_row(DType::kQ4_0, &b, y, 32);
  EXPECT_EQ(y[5], 16.f);
  EXPECT_EQ(y[0], 0.f);
}

TEST(QuantRef, QuantizeMatrixRejectsBadInput) {
  std::vector<uint16_t> w(2 * 48, 0);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quantize_matrix(WeightMatrix{DType::kBF16, 2, 48, w.data()}, DType::kQ8_0,
                               out.data(), nullptr),
               Error);  // 48 columns: not whole blocks
  EXPECT_THROW(quantize_matrix(WeightMatrix{DType::kBF16, 2, 32, w.data()}, DType::kQ6_K,
                               out.data(), nullptr),
               Error);  // no Q6_K quantizer
}

}  // namespace
}  // namespace kantu::kernels
