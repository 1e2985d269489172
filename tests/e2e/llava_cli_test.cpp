// The LLaVA models through the CLI: `kantu preprocess` writes pixel_values in the
// reference's shape ([1, 3, S, S] for 1.5, [1, tiles, 3, S, S] for NeXT) with its values,
// `kantu run` gives the golden's greedy tokens and text, and Qwen-only options are refused
// with a clear error; `kantu info` on LLaVA's GGUF files and on a plain Llama one.
#include <gtest/gtest.h>

#include <cstring>

#include "core/json.h"
#include "formats/safetensors.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"

namespace kantu {
namespace {

test::CommandResult llava_cli(std::vector<std::string> args) {
  args.insert(args.begin(), KANTU_EXE);
  return test::run_command(args);
}

TEST(LlavaCli, PreprocessWritesTheReferencePixelValues) {
  const std::string dir = test::make_temp_dir("llava_preprocess");
  auto r = llava_cli({"preprocess", "-m", test::testdata("models/llava15-tiny-a"), "--image",
                  test::testdata("images/model_ns_160x288.png"), "--out", dir + "/pv.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json out = parse_json(r.out, "stdout");
  EXPECT_EQ(out.at("tokens"), 576);
  EXPECT_EQ(out.at("tiles"), 1);
  const SafetensorsFile ours = SafetensorsFile::open(dir + "/pv.safetensors");
  const SafetensorsFile golden =
      SafetensorsFile::open(test::testdata("goldens/llava/preprocess/clip_model_ns_160x288.safetensors"));
  const TensorView& a = ours.get("pixel_values");
  const TensorView& b = golden.get("pixel_values");
  ASSERT_EQ(a.shape, b.shape);
  EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0);

  r = llava_cli({"preprocess", "-m", test::testdata("models/llava-next-tiny-a"), "--image",
             test::testdata("images/strokes_64x1600.png"), "--out", dir + "/next.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  out = parse_json(r.out, "stdout");
  EXPECT_EQ(out.at("tiles"), 4);
  EXPECT_EQ(out.at("pixel_values_shape"), Json::parse("[1, 4, 3, 336, 336]"));
  EXPECT_EQ(SafetensorsFile::open(dir + "/next.safetensors").get("pixel_values").shape,
            (std::vector<int64_t>{1, 4, 3, 336, 336}));

  r = llava_cli({"preprocess", "-m", test::testdata("models/llava-next-tiny-a"), "--image",
             test::testdata("images/strokes_64x1600.png"), "--min-pixels", "1000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CLIP-style processor"), std::string::npos) << r.err;
}

TEST(LlavaCli, RunGivesTheGoldenTokensAndText) {
  for (const char* model : {"llava-next-tiny-a", "llava15-tiny-a"}) {
    SCOPED_TRACE(model);
    const std::string golden_dir = std::string(model) == "llava15-tiny-a" ? "15-tiny-a" : "next-tiny-a";
    const Json golden = read_json_file(test::testdata("goldens/llava/" + golden_dir + "/full_model/one_image.json"));
    auto r = llava_cli({"run", "-m", test::testdata(std::string("models/") + model), "--image",
                    test::testdata("images/smooth_1024x768.png"), "-p", "What is in this image?", "-n", "20",
                    "--temperature", "0", "--json", "--threads", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json out = parse_json(r.out, "stdout");
    EXPECT_EQ(out.at("ids"), golden.at("generated_ids"));
    EXPECT_EQ(out.at("text"), golden.at("generated_text"));
    EXPECT_EQ(out.at("prompt_ids").size(), golden.at("num_tokens").get<size_t>());
  }
}

// `kantu info` describes LLaVA's GGUF pair as LLaVA, its text file alone as a text-only
// LLaVA, and says what a plain Llama text file is (not a LLaVA: its mmproj is missing, and
// how to pass one) instead of claiming it; `kantu run` refuses it the same way.
TEST(LlavaCli, InfoSaysWhatEachGgufFileIs) {
  const std::string dir = test::make_temp_dir("llava_gguf_cli");
  const test::GgufPair pair = test::write_gguf_pair(test::testdata("models/llava15-tiny-a"), dir, DType::kF16);
  auto r = llava_cli({"info", "-m", pair.model, "--mmproj", pair.mmproj});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json j = parse_json(r.out, "info");
  EXPECT_EQ(j["family"], "llava");
  EXPECT_EQ(j["has_vision"], true);

  r = llava_cli({"info", "-m", pair.model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = parse_json(r.out, "info");
  EXPECT_EQ(j["family"], "llava");
  EXPECT_EQ(j["has_vision"], false);

  const std::string llama = test::write_plain_llama_gguf(test::make_temp_dir("llava_gguf_cli_llama"));
  const std::vector<std::vector<std::string>> commands = {{"info", "-m", llama},
                                                          {"run", "-m", llama, "-p", "Hi", "-n", "2"}};
  for (const auto& command : commands) {
    SCOPED_TRACE(command[0]);
    r = llava_cli(command);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(r.out.find("llava"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("is a text-only Llama model"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("mmproj) is missing"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--mmproj"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace kantu
