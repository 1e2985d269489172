// Every LLaVA preprocessing golden (transformers 4.57's CLIPImageProcessor and
// LlavaNextImageProcessor with Pillow, goldens/llava/preprocess) against ours: the pinpoint,
// the aspect-preserving size, the padding, every tile byte for byte, and pixel_values bit for
// bit (stored for CLIP; for NeXT recomputed from the golden tiles with the README's formula).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/json.h"
#include "formats/clip_preprocessor_config.h"
#include "formats/safetensors.h"
#include "image/anyres.h"
#include "image/clip_preprocess.h"
#include "image/decode.h"
#include "support/testdata.h"

namespace kantu {
namespace {

size_t byte_mismatches(const RgbImage& ours, const TensorView& golden, int64_t offset = 0) {
  EXPECT_EQ(golden.dtype, DType::kU8);
  size_t n = 0;
  for (size_t i = 0; i < ours.pixels.size(); ++i) n += ours.pixels[i] != golden.as<uint8_t>()[offset + static_cast<int64_t>(i)];
  return n;
}

// goldens/llava/README.md: float32(float64(u8) * 0.00392156862745098), then
// (x - float32(mean)) / float32(std) in float32, channels first.
float reference_value(uint8_t u8, int channel, const ClipPreprocessorConfig& c) {
  const float x = static_cast<float>(static_cast<double>(u8) * 0.00392156862745098);
  return (x - c.image_mean[channel]) / c.image_std[channel];
}

ClipPreprocessorConfig config_of(const Json& c) {
  const bool anyres = c.at("processor").get<std::string>() == "LlavaNextImageProcessor";
  return load_clip_preprocessor_config(test::testdata(c.at("model_folder").get<std::string>()), anyres);
}

void check_next(const Json& c, const SafetensorsFile& golden) {
  const ClipPreprocessorConfig config = config_of(c);
  const RgbImage rgb = decode_image_file(test::testdata("images/" + c.at("file").get<std::string>()));
  const ClipPixelValues out = llava_next_preprocess(rgb, config);
  EXPECT_EQ(out.best_resolution.height, c.at("best_resolution_hw")[0].get<int64_t>());
  EXPECT_EQ(out.best_resolution.width, c.at("best_resolution_hw")[1].get<int64_t>());
  EXPECT_EQ(out.resized_for_tiles.height, c.at("resized_for_patching_hw")[0].get<int64_t>());
  EXPECT_EQ(out.resized_for_tiles.width, c.at("resized_for_patching_hw")[1].get<int64_t>());
  const HeightWidth placed = patch_output_size(out.resized_for_tiles, out.best_resolution);
  const auto pad = c.at("padding_top_bottom_left_right");
  EXPECT_EQ((out.best_resolution.height - placed.height) / 2, pad[0].get<int64_t>());
  EXPECT_EQ((out.best_resolution.width - placed.width) / 2, pad[2].get<int64_t>());
  const std::vector<int64_t> shape = c.at("pixel_values_shape").get<std::vector<int64_t>>();
  ASSERT_EQ(out.tiles, shape[1]);
  EXPECT_EQ(out.height, shape[3]);
  EXPECT_EQ(out.width, shape[4]);
  EXPECT_EQ(out.tiles, anyres_tile_count({rgb.height, rgb.width}, config.image_grid_pinpoints, config.crop_height));
  const TensorView& sizes = golden.get("image_sizes");
  EXPECT_EQ(out.image_size.height, sizes.as<int64_t>()[0]);
  EXPECT_EQ(out.image_size.width, sizes.as<int64_t>()[1]);
  const TensorView& tiles = golden.get("tiles_u8");
  const int64_t tile_bytes = out.height * out.width * 3;
  for (int64_t t = 0; t < out.tiles; ++t) {
    EXPECT_EQ(byte_mismatches(out.tiles_u8[static_cast<size_t>(t)], tiles, t * tile_bytes), 0u) << "tile " << t;
  }
  const int64_t plane = out.height * out.width;
  size_t bit_differences = 0;
  for (int64_t t = 0; t < out.tiles; ++t) {
    for (int64_t i = 0; i < plane; ++i) {
      for (int ch = 0; ch < 3; ++ch) {
        const float expected = reference_value(tiles.as<uint8_t>()[t * tile_bytes + i * 3 + ch], ch, config);
        const float got = out.data[static_cast<size_t>((t * 3 + ch) * plane + i)];
        bit_differences += std::memcmp(&expected, &got, sizeof(float)) != 0;
      }
    }
  }
  EXPECT_EQ(bit_differences, 0u);
}

void check_clip(const Json& c, const SafetensorsFile& golden) {
  const ClipPreprocessorConfig config = config_of(c);
  const RgbImage rgb = decode_image_file(test::testdata("images/" + c.at("file").get<std::string>()));
  const HeightWidth resized = shortest_edge_size({rgb.height, rgb.width}, config.shortest_edge);
  EXPECT_EQ(resized.height, c.at("resized_hw")[0].get<int64_t>());
  EXPECT_EQ(resized.width, c.at("resized_hw")[1].get<int64_t>());
  ClipPreprocessorConfig no_crop = config;
  no_crop.do_center_crop = false;
  EXPECT_EQ(byte_mismatches(clip_preprocess(rgb, no_crop).tiles_u8[0], golden.get("resized_u8")), 0u);
  const ClipPixelValues out = clip_preprocess(rgb, config);
  EXPECT_EQ(byte_mismatches(out.tiles_u8[0], golden.get("cropped_u8")), 0u);
  const TensorView& pv = golden.get("pixel_values");
  ASSERT_EQ(pv.shape, c.at("pixel_values_shape").get<std::vector<int64_t>>());
  ASSERT_EQ(static_cast<size_t>(pv.numel()), out.data.size());
  EXPECT_EQ(std::memcmp(pv.data, out.data.data(), out.data.size() * sizeof(float)), 0) << "pixel_values differ in bits";
}

TEST(LlavaPreprocessGolden, EveryCase) {
  const Json cases = read_json_file(test::testdata("goldens/llava/preprocess/cases.json"));
  int next = 0, clip = 0;
  for (const Json& c : cases.at("cases")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const SafetensorsFile golden = SafetensorsFile::open(test::testdata("goldens/llava/preprocess/" + name + ".safetensors"));
    if (c.at("processor").get<std::string>() == "LlavaNextImageProcessor") {
      check_next(c, golden);
      ++next;
    } else {
      check_clip(c, golden);
      ++clip;
    }
  }
  EXPECT_GE(next, 4);
  EXPECT_GE(clip, 2);
}

TEST(LlavaPreprocessGolden, ImageTokensAndTilesOfTheModelGoldens) {
  const Json vision = read_json_file(test::testdata("goldens/llava/next-tiny-a/vision/vision.json"));
  const ClipPreprocessorConfig config = load_clip_preprocessor_config(test::testdata("models/llava-next-tiny-a"), true);
  for (const auto& [name, v] : vision.items()) {
    SCOPED_TRACE(name);
    for (size_t i = 0; i < v.at("image_sizes_hw").size(); ++i) {
      const HeightWidth size{v["image_sizes_hw"][i][0].get<int64_t>(), v["image_sizes_hw"][i][1].get<int64_t>()};
      EXPECT_EQ(anyres_image_tokens(size, config.image_grid_pinpoints, {}), v["packed_tokens_per_image"][i].get<int64_t>());
      EXPECT_EQ(anyres_tile_count(size, config.image_grid_pinpoints, 336), v["tiles_per_image"][i].get<int64_t>());
    }
  }
  // goldens/llava/README.md: two_images gives 1512 + 936 tokens, both on the 336x672 canvas.
  EXPECT_EQ(anyres_image_tokens({160, 256}, config.image_grid_pinpoints, {}), 1512);
  EXPECT_EQ(anyres_image_tokens({288, 160}, config.image_grid_pinpoints, {}), 936);
  EXPECT_EQ(select_best_resolution({288, 160}, config.image_grid_pinpoints), (HeightWidth{336, 672}));
}

}  // namespace
}  // namespace kantu
