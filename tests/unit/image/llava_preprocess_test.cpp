// The CLIP/NeXT processors on inputs the goldens do not cover: tiny and extreme images,
// crops larger than the image, and malformed preprocessor configs.
#include <gtest/gtest.h>

#include <functional>

#include "core/error.h"
#include "core/json.h"
#include "formats/clip_preprocessor_config.h"
#include "image/anyres.h"
#include "image/clip_preprocess.h"
#include "support/expect_error.h"

namespace kantu {
namespace {

RgbImage filled(int w, int h) {
  RgbImage image(w, h);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(1 + i % 250);
  return image;
}

ClipPreprocessorConfig next_config() {
  return parse_clip_preprocessor_config(Json::parse(R"({"size": {"shortest_edge": 336},
      "crop_size": {"height": 336, "width": 336}})"), "preprocessor_config.json", true);
}

TEST(LlavaPreprocess, TinyAndExtremeImagesTileWithoutTrouble) {
  const ClipPreprocessorConfig c = next_config();
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {1, 3000}, {3000, 1}, {337, 336}, {2000, 1500}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const ClipPixelValues out = llava_next_preprocess(filled(w, h), c);
    EXPECT_EQ(out.tiles, anyres_tile_count({h, w}, c.image_grid_pinpoints, 336));
    EXPECT_EQ(out.data.size(), static_cast<size_t>(out.tiles * 3 * 336 * 336));
    const int64_t tokens = anyres_image_tokens({h, w}, c.image_grid_pinpoints, {});
    EXPECT_GE(tokens, 576);  // a 1-pixel-high strip keeps no grid row at all, as in the reference
    EXPECT_LE(tokens, 576 + 72 * 72 + 72);
  }
  // A 1x1 image keeps its whole area on every canvas: the first least-wasteful one wins.
  EXPECT_EQ(select_best_resolution({1, 1}, c.image_grid_pinpoints), (HeightWidth{336, 672}));
  EXPECT_EQ(select_best_resolution({1000, 1000}, c.image_grid_pinpoints), (HeightWidth{672, 672}));
}

TEST(LlavaPreprocess, CenterCropPadsLikeTheReference) {
  RgbImage image(2, 2);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(10 + i);
  // 3x3 from 2x2: top = (2-3)//2 = -1, padded by ceil(1/2) = 1: a zero row and column first.
  const RgbImage out = center_crop(image, 3, 3);
  ASSERT_EQ(out.width, 3);
  ASSERT_EQ(out.height, 3);
  for (int x = 0; x < 3; ++x) EXPECT_EQ(out.row(0)[x * 3], 0);
  EXPECT_EQ(out.row(1)[0], 0);
  EXPECT_EQ(out.row(1)[3], image.row(0)[0]);
  EXPECT_EQ(out.row(2)[6], image.row(1)[3]);
  const RgbImage same = center_crop(image, 2, 2);
  EXPECT_EQ(same.pixels, image.pixels);
  // 1x1 from 2x2: the (floor) top-left of the centre.
  EXPECT_EQ(center_crop(image, 1, 1).row(0)[0], image.row(0)[0]);
  EXPECT_EQ(shortest_edge_size({288, 160}, 336), (HeightWidth{604, 336}));
  EXPECT_EQ(shortest_edge_size({768, 1024}, 336), (HeightWidth{336, 448}));
}

TEST(LlavaPreprocess, UnpaddingUsesPythonsRounding) {
  EXPECT_DOUBLE_EQ(python_round7(36.00000004), 36.0);
  EXPECT_DOUBLE_EQ(python_round7(0.12345675), 0.1234568);  // the binary value is just above the tie
  const UnpaddedGrid g = unpadded_grid({768, 1024}, 48, 48);
  EXPECT_EQ(g.top, 6);
  EXPECT_EQ(g.rows, 36);
  EXPECT_EQ(g.cols, 48);
  const UnpaddedGrid tall = unpadded_grid({288, 160}, 24, 48);
  EXPECT_EQ(tall.left, 17);
  EXPECT_EQ(tall.cols, 14);
}


TEST(LlavaPreprocess, BadConfigsAndInputsAreClearErrors) {
  const auto parse = [](const char* text, bool anyres) {
    return parse_clip_preprocessor_config(Json::parse(text), "preprocessor_config.json", anyres);
  };
  test::expect_error([&] { parse(R"({"size": {"longest_edge": 3}})", false); }, ErrorKind::kCorrupt, "size");
  test::expect_error([&] { parse(R"({"size": {"shortest_edge": 0}})", false); }, ErrorKind::kCorrupt, "shortest_edge");
  test::expect_error([&] { parse(R"({"crop_size": {"height": 99999999, "width": 3}})", false); }, ErrorKind::kCorrupt, "crop_size.height");
  test::expect_error([&] { parse(R"({"image_grid_pinpoints": [[336]]})", true); }, ErrorKind::kCorrupt, "image_grid_pinpoints");
  test::expect_error([&] { parse(R"({"image_grid_pinpoints": []})", true); }, ErrorKind::kCorrupt, "image_grid_pinpoints");
  test::expect_error([&] { parse(R"({"image_grid_pinpoints": [[0, 336]]})", true); }, ErrorKind::kCorrupt, "image_grid_pinpoints");
  test::expect_error([&] { parse(R"({"image_std": [0.1, 0, 0.2]})", false); }, ErrorKind::kCorrupt, "image_std");
  test::expect_error([&] { parse(R"({"resample": 2})", false); }, ErrorKind::kUnsupported, "resample");
  test::expect_error([&] { parse(R"([1, 2])", false); }, ErrorKind::kCorrupt, "preprocessor_config.json");
  EXPECT_EQ(parse(R"({"size": 224, "crop_size": 224})", false).crop_width, 224);
  test::expect_error([&] { llava_next_preprocess(RgbImage(), next_config()); }, ErrorKind::kInvalidArgument, "empty");
  test::expect_error([&] { select_best_resolution({10, 10}, {}); }, ErrorKind::kInvalidArgument, "pinpoints");
}

}  // namespace
}  // namespace kantu
