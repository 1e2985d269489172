// Qwen3-VL video preprocessing: frame sampling (numpy linspace + half-to-even round),
// the video smart_resize, timestamps and their text, and the temporal patch grid.
#include "image/video.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace kantu {
namespace {

TEST(VideoSampling, FollowsFpsAndClamps) {
  VideoPreprocessConfig config;
  // 100 frames at 24 fps, sampled at 2 fps: int(100/24*2) = 8 frames over 0..99.
  EXPECT_EQ(sample_video_frames(100, 24, config),
            (std::vector<int64_t>{0, 14, 28, 42, 57, 71, 85, 99}));
  // Unknown fps: 24 is assumed.
  EXPECT_EQ(sample_video_frames(100, 0, config), sample_video_frames(100, 24, config));
  // At least min_frames (4) but never more than the video has.
  EXPECT_EQ(sample_video_frames(5, 30, config), (std::vector<int64_t>{0, 1, 3, 4}));
  EXPECT_EQ(sample_video_frames(3, 30, config), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(sample_video_frames(1, 30, config), (std::vector<int64_t>{0}));
  // Ties round half to even: linspace(0, 5, 3) = 0, 2.5, 5 -> 0, 2, 5.
  config.min_frames = 3;
  config.max_frames = 3;
  EXPECT_EQ(sample_video_frames(6, 30, config), (std::vector<int64_t>{0, 2, 5}));
  config.max_frames = 768;
  config.min_frames = 4;
  EXPECT_EQ(sample_video_frames(100000, 1, config).size(), 768u);
  EXPECT_THROW(sample_video_frames(0, 24, config), Error);
}

TEST(VideoSmartResize, BudgetOverAllFrames) {
  // 8 frames of 480x640: 8*480*640 < 25165824, no tie: unchanged.
  ResizedSize a = smart_resize_video(8, 480, 640, 2, 32, 4096, 25165824);
  EXPECT_EQ(a.height, 480);
  EXPECT_EQ(a.width, 640);
  // 768 frames of 720x1280 exceed the budget: beta over all frames, floored to 32.
  ResizedSize b = smart_resize_video(768, 720, 1280, 2, 32, 4096, 25165824);
  EXPECT_LE(768 * b.height * b.width, 25165824 * 1.0001);
  EXPECT_EQ(b.height % 32, 0);
  EXPECT_GE(b.height, 32);
  // Sides under 32 are scaled up first.
  ResizedSize c = smart_resize_video(4, 16, 64, 2, 32, 4096, 25165824);
  EXPECT_EQ(c.height, 32);
  EXPECT_EQ(c.width, 128);
  EXPECT_THROW(smart_resize_video(1, 100, 100, 2, 32, 4096, 25165824), Error);
  EXPECT_THROW(smart_resize_video(4, 10, 2010, 2, 32, 4096, 25165824), Error);
}

TEST(VideoTimestamps, MeanOfEachTemporalPatch) {
  std::vector<double> t = video_timestamps({0, 14, 28, 42, 57}, 24, 2);  // padded with 57
  ASSERT_EQ(t.size(), 3u);
  EXPECT_DOUBLE_EQ(t[0], 7.0 / 24);
  EXPECT_DOUBLE_EQ(t[1], 35.0 / 24);
  EXPECT_DOUBLE_EQ(t[2], 57.0 / 24);
  EXPECT_EQ(video_timestamp_text(t[0]), "<0.3 seconds>");
  EXPECT_EQ(video_timestamp_text(12.25), "<12.2 seconds>");  // exact binary tie: even
  EXPECT_EQ(video_timestamp_text(0.0), "<0.0 seconds>");
}

TEST(VideoPreprocess, GridTokensAndTimestamps) {
  std::vector<RgbImage> frames;
  for (int i = 0; i < 5; ++i) {
    RgbImage f(96, 64);
    for (auto& v : f.pixels) v = static_cast<uint8_t>(i * 40);
    frames.push_back(f);
  }
  PreprocessedVideo v = preprocess_video(frames, {0, 6, 12, 18, 24}, 12, VideoPreprocessConfig{});
  EXPECT_EQ(v.grid.t, 3);  // 5 frames padded to 6
  EXPECT_EQ(v.grid.h, 4);
  EXPECT_EQ(v.grid.w, 6);
  EXPECT_EQ(v.tokens_per_temporal_patch, 6);
  EXPECT_EQ(v.pixel_values.size(), size_t{3 * 4 * 6} * 1536);
  EXPECT_EQ(v.timestamps, (std::vector<std::string>{"<0.2 seconds>", "<1.2 seconds>",
                                                    "<2.0 seconds>"}));
  // Temporal patch 2 holds frame 4 twice (the padding), so both halves are equal.
  const float* last = v.pixel_values.data() + size_t{2 * 4 * 6} * 1536;
  EXPECT_EQ(last[0], last[256]);
  EXPECT_THROW(preprocess_video(frames, {0, 1}, 12, VideoPreprocessConfig{}), Error);
}

}  // namespace
}  // namespace kantu
