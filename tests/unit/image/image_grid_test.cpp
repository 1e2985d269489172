// image_grid(): the grid preprocess_image() gives, from the image's size alone (a prefix
// cache lays out prompts whose images it does not preprocess), for every processor kind.
#include <gtest/gtest.h>

#include "core/json.h"
#include "formats/clip_preprocessor_config.h"
#include "image/preprocess.h"

namespace kantu {
namespace {

RgbImage gray(int w, int h) {
  RgbImage image(w, h);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i % 251);
  return image;
}

void expect_grids_match(const ImagePreprocessConfig& config) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {64, 900}, {337, 336}, {640, 480}, {1000, 333}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const PatchGrid want = preprocess_image(gray(w, h), config).grid;
    const PatchGrid got = image_grid(h, w, config);
    EXPECT_EQ(got.t, want.t);
    EXPECT_EQ(got.h, want.h);
    EXPECT_EQ(got.w, want.w);
  }
}

TEST(ImageGrid, QwenPatchesMatchThePreprocessedGrid) {
  ImagePreprocessConfig config;
  config.min_pixels = 4096;
  config.max_pixels = 200000;
  expect_grids_match(config);
}

TEST(ImageGrid, ClipAndLlavaNextTilesMatchThePreprocessedGrid) {
  for (const bool next : {false, true}) {
    SCOPED_TRACE(next ? "llava-next" : "clip");
    ImagePreprocessConfig config;
    config.kind = next ? ImageProcessorKind::kLlavaNext : ImageProcessorKind::kClip;
    config.clip = parse_clip_preprocessor_config(
        Json::parse(R"({"size": {"shortest_edge": 56}, "crop_size": {"height": 56, "width": 56}})"),
        "preprocessor_config.json", next);
    if (next) config.clip.image_grid_pinpoints = {{56, 112}, {112, 56}, {112, 112}};
    config.tokens.patch_size = 14;
    config.tokens.tile_size = 56;
    expect_grids_match(config);
  }
}

}  // namespace
}  // namespace kantu
