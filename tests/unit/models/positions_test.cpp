// Position schemes (blocks/positions.h) and rotary variants (blocks/rope.h), written out
// by hand from transformers' get_rope_index and rotary code.
#include "models/blocks/positions.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/blocks/pos_embed.h"
#include "models/blocks/rope.h"

namespace kantu::models::blocks {
namespace {

constexpr int32_t kText = 100, kImage = 151655, kVideo = 151656;

PositionRule mrope(TemporalRule temporal, double tokens_per_second = 1) {
  PositionRule r;
  r.kind = PositionKind::kMrope;
  r.image_token_id = kImage;
  r.video_token_id = kVideo;
  r.merge_size = 2;
  r.temporal = temporal;
  r.tokens_per_second = tokens_per_second;
  return r;
}

VisualItem item(GridTHW g, double seconds = 0) { return {g, g.patches() / 4, seconds}; }

TEST(MropePositions, TextOnlyIsArangeOnAllAxes) {
  std::vector<int32_t> ids(7, kText);
  PositionIds p = compute_positions(mrope(TemporalRule::kFramesAsImages), ids, {}, 10);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(p.t[i], 10 + i);
    EXPECT_EQ(p.h[i], 10 + i);
    EXPECT_EQ(p.w[i], 10 + i);
  }
  EXPECT_EQ(p.next_pos, 17);
  EXPECT_TRUE(p.visual_rows.empty());
}

// The worked example of the architecture notes, scaled down: text, an image of merged
// grid 2 x 3 (patch grid 4 x 6), text. Every Qwen-VL family positions images alike.
TEST(MropePositions, ImageTokensGetRowAndColumnOffsets) {
  std::vector<int32_t> ids = {kText, kText, kText, kImage, kImage, kImage,
                              kImage, kImage, kImage, kText, kText};
  for (TemporalRule rule : {TemporalRule::kFramesAsImages, TemporalRule::kFrameIndex,
                            TemporalRule::kSeconds}) {
    PositionIds p = compute_positions(mrope(rule, 2), ids, {item({1, 4, 6})}, 0);
    EXPECT_EQ(p.t, (std::vector<int64_t>{0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7}));
    EXPECT_EQ(p.h, (std::vector<int64_t>{0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7}));
    EXPECT_EQ(p.w, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7}));
    EXPECT_EQ(p.next_pos, 8);  // rope_delta = 8 - 11 = -3
    EXPECT_EQ(p.visual_rows, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
  }
}

// Qwen3-VL: each temporal patch of a video is positioned like an image of its own.
TEST(MropePositions, Qwen3VideoSplitsIntoTemporalItems) {
  // Two temporal patches of a 2 x 2 patch grid (one merged token each), separated by text.
  std::vector<int32_t> ids = {kText, kVideo, kText, kVideo, kText};
  PositionIds p = compute_positions(mrope(TemporalRule::kFramesAsImages), ids, {item({2, 2, 2})}, 0);
  EXPECT_EQ(p.t, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(p.next_pos, 5);
}

// Qwen2-VL: t = the temporal patch index; Qwen2.5-VL: t = index * int(second_per_grid_t) *
// tokens_per_second (transformers casts the seconds to int64 first, so 0.5 s becomes 0).
TEST(MropePositions, VideoTemporalRulesOfQwen2AndQwen25) {
  // Three temporal patches of a 2 x 4 patch grid: 2 merged tokens each.
  std::vector<int32_t> ids = {kText, kVideo, kVideo, kVideo, kVideo, kVideo, kVideo, kText};
  PositionIds q2 = compute_positions(mrope(TemporalRule::kFrameIndex), ids, {item({3, 2, 4})}, 0);
  EXPECT_EQ(q2.t, (std::vector<int64_t>{0, 1, 1, 2, 2, 3, 3, 4}));
  EXPECT_EQ(q2.w, (std::vector<int64_t>{0, 1, 2, 1, 2, 1, 2, 4}));
  EXPECT_EQ(q2.next_pos, 5);

  PositionIds q25 =
      compute_positions(mrope(TemporalRule::kSeconds, 2), ids, {item({3, 2, 4}, 1.0)}, 0);
  EXPECT_EQ(q25.t, (std::vector<int64_t>{0, 1, 1, 3, 3, 5, 5, 6}));
  EXPECT_EQ(q25.h, (std::vector<int64_t>{0, 1, 1, 1, 1, 1, 1, 6}));
  EXPECT_EQ(q25.next_pos, 7);  // one past the largest (t = 5)

  PositionIds half =
      compute_positions(mrope(TemporalRule::kSeconds, 2), ids, {item({3, 2, 4}, 0.5)}, 0);
  EXPECT_EQ(half.t, (std::vector<int64_t>{0, 1, 1, 1, 1, 1, 1, 3}));
  PositionIds two =
      compute_positions(mrope(TemporalRule::kSeconds, 25), ids, {item({3, 2, 4}, 2.7)}, 0);
  EXPECT_EQ(two.t[3], 1 + 50);  // int(2.7) = 2 seconds, 25 tokens a second
  EXPECT_EQ(two.t[5], 1 + 100);
}

TEST(SequentialPositions, VisualTokensCountLikeText) {
  PositionRule r;
  r.image_token_id = kImage;
  std::vector<int32_t> ids = {kText, kImage, kImage, kImage, kText};
  PositionIds p = compute_positions(r, ids, {{{1, 1, 3}, 3, 0}}, 4);
  EXPECT_EQ(p.t, (std::vector<int64_t>{4, 5, 6, 7, 8}));
  EXPECT_EQ(p.visual_rows, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(p.next_pos, 9);
}

TEST(MropePositions, PadCountMismatchIsAnError) {
  const PositionRule r = mrope(TemporalRule::kFramesAsImages);
  std::vector<int32_t> too_few = {kText, kImage, kImage, kText};
  EXPECT_THROW(compute_positions(r, too_few, {item({1, 4, 6})}, 0), Error);
  std::vector<int32_t> too_many(10, kImage);
  EXPECT_THROW(compute_positions(r, too_many, {item({1, 4, 6})}, 0), Error);
  std::vector<int32_t> unused = {kText};
  EXPECT_THROW(compute_positions(r, unused, {item({1, 4, 6})}, 0), Error);
  EXPECT_THROW(compute_positions(r, unused, {{{1, 3, 6}, 4, 0}}, 0), Error);  // odd grid
  try {
    compute_positions(r, too_few, {item({1, 4, 6})}, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("needs 6"), std::string::npos) << e.what();
  }
}

// Which position axis each frequency k of a head_dim-32 rotation takes.
std::vector<char> axes(const RopeSpec& spec) {
  const std::vector<float> inv = rope_inv_freq(1e6, spec.head_dim);
  std::vector<char> out;
  std::vector<float> cos(inv.size()), sin(inv.size());
  for (size_t k = 0; k < inv.size(); ++k) {
    rope_cos_sin(spec, inv, 1, 0, 0, cos.data(), sin.data());
    const bool t = sin[k] != 0;
    rope_cos_sin(spec, inv, 0, 1, 0, cos.data(), sin.data());
    const bool h = sin[k] != 0;
    rope_cos_sin(spec, inv, 0, 0, 1, cos.data(), sin.data());
    const bool w = sin[k] != 0;
    EXPECT_EQ(int(t) + int(h) + int(w), 1) << "k=" << k;
    out.push_back(t ? 'T' : h ? 'H' : 'W');
  }
  return out;
}

TEST(Rope, InterleavedAxisAssignmentClipsAtHalf) {
  const std::string a(axes({RopeKind::kMropeInterleaved, 1e6, 32, {6, 5, 5}}).data(), 16);
  EXPECT_EQ(a, "THWTHWTHWTHWTHWT");
  // [2, 8, 8] over 16 frequencies: H below 24 and W below 24 both run past the end.
  const std::string b(axes({RopeKind::kMropeInterleaved, 1e6, 32, {2, 8, 8}}).data(), 16);
  EXPECT_EQ(b, "THWTHWTHWTHWTHWT");
  const std::string c(axes({RopeKind::kMropeInterleaved, 1e6, 32, {12, 2, 2}}).data(), 16);
  EXPECT_EQ(c, "THWTHWTTTTTTTTTT");
}

TEST(Rope, ChunkedAxisAssignment) {
  const std::string a(axes({RopeKind::kMropeChunked, 1e6, 16, {2, 3, 3}}).data(), 8);
  EXPECT_EQ(a, "TTHHHWWW");
  const std::string plain(axes({RopeKind::kPlain, 1e6, 16, {}}).data(), 8);
  EXPECT_EQ(plain, "TTTTTTTT");
}

TEST(Rope, InvFreqIsTorchs) {
  const std::vector<float> inv = rope_inv_freq(1e6, 16);
  ASSERT_EQ(inv.size(), 8u);
  EXPECT_FLOAT_EQ(inv[0], 1.0f);
  EXPECT_NEAR(inv[1], 1.0 / std::pow(1e6, 2.0 / 16), 1e-7);
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
}  // namespace kantu::models::blocks
