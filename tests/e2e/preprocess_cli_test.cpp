// `kantu preprocess` end to end: JSON on stdout, the safetensors it writes against the
// preprocessing goldens, and clear errors for bad input.
#include <gtest/gtest.h>

#include <cmath>

#include "core/json.h"
#include "formats/safetensors.h"
#include "support/testdata.h"

namespace kantu {
namespace {

test::CommandResult preprocess(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {KANTU_EXE, "preprocess", "-m",
                                   test::testdata("models/qwen3vl-tiny-a")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return test::run_command(argv);
}

TEST(PreprocessCli, PrintsGridTokensAndResizedSize) {
  auto r = preprocess({"--image", test::testdata("images/noise_720x400.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json out = parse_json(r.out, "stdout");
  Json cases = read_json_file(test::testdata("goldens/qwen3vl/preprocess/cases.json"));
  for (const Json& c : cases.at("cases")) {
    if (c.at("name") != "noise_720x400") continue;
    EXPECT_EQ(out.at("grid_thw"), c.at("image_grid_thw")[0]);
    EXPECT_EQ(out.at("tokens"), c.at("num_image_tokens"));
    EXPECT_EQ(out.at("resized"), c.at("resized_hw"));
    return;
  }
  FAIL() << "golden case noise_720x400 not found";
}

TEST(PreprocessCli, WritesPixelValuesMatchingTheGolden) {
  const std::string dir = test::make_temp_dir("preprocess_cli");
  const std::string out_path = dir + "/pv.safetensors";
  auto r = preprocess({"--image", test::testdata("images/grad_100x60.png"), "--min-pixels",
                       "3136", "--max-pixels", "1003520", "--out", out_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  SafetensorsFile got = SafetensorsFile::open(out_path);
  SafetensorsFile want = SafetensorsFile::open(test::testdata(
      "goldens/qwen3vl/preprocess/grad_100x60_min_pixels3136_max_pixels1003520.safetensors"));
  const TensorView& pv = got.get("pixel_values");
  const TensorView& pv_want = want.get("pixel_values");
  ASSERT_EQ(pv.shape, pv_want.shape);
  ASSERT_EQ(pv.dtype, DType::kF32);
  for (int64_t i = 0; i < pv.numel(); ++i)
    ASSERT_NEAR(pv.as<float>()[i], pv_want.as<float>()[i], 1e-6) << "index " << i;
  const TensorView& rgb = got.get("resized_rgb");
  const TensorView& rgb_want = want.get("resized_u8");
  ASSERT_EQ(rgb.shape, rgb_want.shape);
  ASSERT_EQ(rgb.dtype, DType::kU8);
  for (int64_t i = 0; i < rgb.numel(); ++i)
    ASSERT_EQ(rgb.as<uint8_t>()[i], rgb_want.as<uint8_t>()[i]) << "index " << i;
}

TEST(PreprocessCli, MissingImageIsAnError) {
  auto r = preprocess({"--image", "/nonexistent/x.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/x.png"), std::string::npos) << r.err;
}

TEST(PreprocessCli, NonImageIsAnError) {
  const std::string dir = test::make_temp_dir("preprocess_cli_bad");
  test::write_text_file(dir + "/fake.png", "this is not an image at all");
  auto r = preprocess({"--image", dir + "/fake.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a recognised image format"), std::string::npos) << r.err;
  test::write_text_file(dir + "/cut.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  r = preprocess({"--image", dir + "/cut.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("PNG"), std::string::npos) << r.err;
}

TEST(PreprocessCli, BadBudgetIsAnError) {
  auto r = preprocess({"--image", test::testdata("images/grad_100x60.png"), "--min-pixels",
                       "5000", "--max-pixels", "10"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("max_pixels"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kantu
