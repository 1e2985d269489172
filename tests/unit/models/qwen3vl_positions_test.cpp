#include "models/qwen3vl/positions.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "support/testdata.h"

namespace kantu::models::qwen3vl {
namespace {

Config tiny_config() { return load_config(test::testdata("models/qwen3vl-tiny-a")); }

constexpr int32_t kText = 100;

TEST(Qwen3VLRopeIndex, TextOnlyIsArangeOnAllAxes) {
  Config c = tiny_config();
  std::vector<int32_t> ids(7, kText);
  PositionIds p = rope_index(ids, {}, 10, c);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(p.t[i], 10 + i);
    EXPECT_EQ(p.h[i], 10 + i);
    EXPECT_EQ(p.w[i], 10 + i);
  }
  EXPECT_EQ(p.next_pos, 17);
  EXPECT_TRUE(p.visual_rows.empty());
}

// The worked example of the architecture notes, scaled down: text, an image of merged
// grid 2 x 3 (patch grid 4 x 6), text.
TEST(Qwen3VLRopeIndex, ImageTokensGetRowAndColumnOffsets) {
  Config c = tiny_config();
  const int32_t pad = static_cast<int32_t>(c.image_token_id);
  std::vector<int32_t> ids = {kText, kText, kText, pad, pad, pad, pad, pad, pad, kText, kText};
  PositionIds p = rope_index(ids, {{1, 4, 6}}, 0, c);
  const std::vector<int64_t> t = {0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7};
  const std::vector<int64_t> h = {0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7};
  const std::vector<int64_t> w = {0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7};
  EXPECT_EQ(p.t, t);
  EXPECT_EQ(p.h, h);
  EXPECT_EQ(p.w, w);
  EXPECT_EQ(p.next_pos, 8);  // rope_delta = 8 - 11 = -3
  EXPECT_EQ(p.visual_rows, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
}

TEST(Qwen3VLRopeIndex, VideoSplitsIntoTemporalItems) {
  Config c = tiny_config();
  const int32_t pad = static_cast<int32_t>(c.video_token_id);
  // Two temporal patches of a 2 x 2 patch grid (one merged token each), separated by text.
  std::vector<int32_t> ids = {kText, pad, kText, pad, kText};
  PositionIds p = rope_index(ids, {{2, 2, 2}}, 0, c);
  EXPECT_EQ(p.t, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.next_pos, 5);
}

TEST(Qwen3VLRopeIndex, PadCountMismatchIsAnError) {
  Config c = tiny_config();
  const int32_t pad = static_cast<int32_t>(c.image_token_id);
  std::vector<int32_t> too_few = {kText, pad, pad, kText};
  EXPECT_THROW(rope_index(too_few, {{1, 4, 6}}, 0, c), Error);
  std::vector<int32_t> too_many(10, pad);
  EXPECT_THROW(rope_index(too_many, {{1, 4, 6}}, 0, c), Error);
  std::vector<int32_t> unused = {kText};
  EXPECT_THROW(rope_index(unused, {{1, 4, 6}}, 0, c), Error);
  EXPECT_THROW(rope_index(unused, {{1, 3, 6}}, 0, c), Error);  // odd grid
  try {
    rope_index(too_few, {{1, 4, 6}}, 0, c);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("needs 6"), std::string::npos) << e.what();
  }
}

TEST(Qwen3VLMrope, InterleavedAxisAssignment) {
  Config c = tiny_config();  // head_dim 32, sections [6, 5, 5]
  std::vector<float> inv = text_inv_freq(c.text);
  ASSERT_EQ(inv.size(), 16u);
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  std::vector<float> cos(16), sin(16);
  // Only the W axis non-zero: frequencies 2, 5, 8, 11, 14 rotate, the rest do not.
  mrope_cos_sin(inv, c.text.mrope_section, 0, 0, 7, cos.data(), sin.data());
  for (int k = 0; k < 16; ++k) {
    const bool w_axis = k % 3 == 2 && k < 15;
    EXPECT_EQ(sin[k] != 0.0f, w_axis) << "k=" << k;
  }
  // Only H: 1, 4, 7, 10, 13.
  mrope_cos_sin(inv, c.text.mrope_section, 0, 5, 0, cos.data(), sin.data());
  for (int k = 0; k < 16; ++k) EXPECT_EQ(sin[k] != 0.0f, k % 3 == 1 && k < 15) << "k=" << k;
}

TEST(TorchLinspace, EndpointsAndSymmetry) {
  for (int64_t n : {1, 2, 5, 14, 16, 22, 33, 48}) {
    std::vector<float> v = torch_linspace(0.0f, 47.0f, n);
    ASSERT_EQ(static_cast<int64_t>(v.size()), n);
    EXPECT_EQ(v.front(), 0.0f);
    if (n > 1) {
      EXPECT_NEAR(v.back(), 47.0f, 1e-5);
    }
    for (int64_t i = 1; i < n; ++i) EXPECT_GT(v[i], v[i - 1]);
  }
}

}  // namespace
}  // namespace kantu::models::qwen3vl
