// Every preprocessing golden (produced by the Hugging Face Qwen2VLImageProcessor with
// Pillow) against our pipeline: the resize must be byte-identical, pixel_values within
// 1e-6, grids and token counts identical.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "core/json.h"
#include "formats/preprocessor_config.h"
#include "formats/safetensors.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "support/testdata.h"

namespace kantu {
namespace {

RgbImage image_from_tensor(const TensorView& t) {
  EXPECT_EQ(t.dtype, DType::kU8);
  EXPECT_EQ(t.shape.size(), 3u);
  EXPECT_EQ(t.dim(2), 3);
  RgbImage image(static_cast<int>(t.dim(1)), static_cast<int>(t.dim(0)));
  std::memcpy(image.pixels.data(), t.data, image.pixels.size());
  return image;
}

ImagePreprocessConfig config_for(const Json& c, const ImagePreprocessConfig& base) {
  ImagePreprocessConfig config = base;
  const Json& kwargs = c.at("kwargs");
  if (kwargs.contains("min_pixels")) config.min_pixels = kwargs.at("min_pixels");
  if (kwargs.contains("max_pixels")) config.max_pixels = kwargs.at("max_pixels");
  return config;
}

void check_case(const std::string& dir, const Json& c, const ImagePreprocessConfig& base,
                int* with_pixel_values) {
  const std::string name = c.at("name");
  SCOPED_TRACE(name);
  SafetensorsFile golden = SafetensorsFile::open(test::testdata(dir + "/" + name + ".safetensors"));
  // rgb_u8 is stored when it differs from the file's own pixels (JPEG, grey, photos):
  // our decoder must reproduce it exactly. Otherwise the decoded file is the input.
  // Qwen3-VL's cases name "images/x.png", the others "x.png" (both under images/).
  std::string file = c.at("file").get<std::string>();
  if (file.rfind("images/", 0) != 0) file = "images/" + file;
  RgbImage rgb = decode_image_file(test::testdata(file));
  if (golden.has("rgb_u8")) {
    RgbImage expected = image_from_tensor(golden.get("rgb_u8"));
    ASSERT_EQ(rgb.width, expected.width);
    ASSERT_EQ(rgb.height, expected.height);
    size_t diff = 0;
    for (size_t i = 0; i < rgb.pixels.size(); ++i) diff += rgb.pixels[i] != expected.pixels[i];
    EXPECT_EQ(diff, 0u) << "decoded bytes differ from Pillow's";
  }
  ASSERT_EQ(rgb.height, c.at("input_hw")[0].get<int>());
  ASSERT_EQ(rgb.width, c.at("input_hw")[1].get<int>());
  const ImagePreprocessConfig config = config_for(c, base);

  ResizedSize size = smart_resize(rgb.height, rgb.width, config.factor(), config.min_pixels,
                                  config.max_pixels);
  EXPECT_EQ(size.height, c.at("smart_resize_hw")[0].get<int64_t>());
  EXPECT_EQ(size.width, c.at("smart_resize_hw")[1].get<int64_t>());

  PreprocessedImage out = preprocess_image(rgb, config);
  const TensorView& resized = golden.get("resized_u8");
  ASSERT_EQ(out.resized.height, resized.dim(0));
  ASSERT_EQ(out.resized.width, resized.dim(1));
  size_t mismatches = 0;
  for (size_t i = 0; i < out.resized.pixels.size(); ++i)
    mismatches += out.resized.pixels[i] != resized.as<uint8_t>()[i];
  EXPECT_EQ(mismatches, 0u) << "resized bytes differ from Pillow";

  const TensorView& grid = golden.get("image_grid_thw");
  ASSERT_EQ(grid.numel(), 3);
  EXPECT_EQ(out.grid.t, grid.as<int64_t>()[0]);
  EXPECT_EQ(out.grid.h, grid.as<int64_t>()[1]);
  EXPECT_EQ(out.grid.w, grid.as<int64_t>()[2]);
  EXPECT_EQ(out.num_tokens, c.at("num_image_tokens").get<int64_t>());

  if (!golden.has("pixel_values")) return;  // only the small cases store them
  ++*with_pixel_values;
  const TensorView& pv = golden.get("pixel_values");
  ASSERT_EQ(pv.dtype, DType::kF32);
  ASSERT_EQ(static_cast<size_t>(pv.numel()), out.pixel_values.size());
  ASSERT_EQ(pv.dim(0), out.grid.num_patches());
  double max_diff = 0;
  size_t bit_diffs = 0;
  for (size_t i = 0; i < out.pixel_values.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(double(out.pixel_values[i]) - pv.as<float>()[i]));
    bit_diffs += out.pixel_values[i] != pv.as<float>()[i];
  }
  EXPECT_LE(max_diff, 1e-6);
  // The slow processor's two-step normalisation is reproduced bit for bit.
  if (!config.fused_normalize) {
    EXPECT_EQ(bit_diffs, 0u);
  }
}

// Every case of a golden folder, with the processor settings its cases.json records
// (absent keys: Qwen3-VL's). Returns how many cases compared pixel_values.
int check_all(const std::string& dir) {
  Json cases = read_json_file(test::testdata(dir + "/cases.json"));
  EXPECT_GT(cases.at("cases").size(), 0u);
  const ImagePreprocessConfig base =
      cases.contains("preprocessor_config")
          ? image_preprocess_config(parse_preprocessor_config(cases.at("preprocessor_config"), dir))
          : ImagePreprocessConfig{};
  int with_pixel_values = 0;
  for (const Json& c : cases.at("cases")) check_case(dir, c, base, &with_pixel_values);
  return with_pixel_values;
}

TEST(PreprocessGolden, SyntheticImages) {
  EXPECT_GE(check_all("goldens/qwen3vl/preprocess"), 1) << "no case compared pixel_values";
}
TEST(PreprocessGolden, Photos) { check_all("goldens/qwen3vl/preprocess-photos"); }
// Qwen2.5-VL and Qwen2-VL: 14-pixel patches, CLIP mean/std, 3136 .. 12845056 pixels, the
// slow processor's normalisation.
TEST(PreprocessGolden, Qwen25VL) {
  EXPECT_GE(check_all("goldens/qwen25vl/preprocess"), 1) << "no case compared pixel_values";
}
TEST(PreprocessGolden, Qwen2VL) {
  EXPECT_GE(check_all("goldens/qwen2vl/preprocess"), 1) << "no case compared pixel_values";
}

}  // namespace
}  // namespace kantu
