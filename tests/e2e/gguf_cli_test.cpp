// The CLI on llama.cpp's GGUF pair for a tiny model: `kantu run -m model.gguf --mmproj
// mmproj.gguf` answers exactly like the Hugging Face folder it was converted from (BF16
// pair: identical greedy ids), `kantu info` describes it, and a text-only run without
// --mmproj answers text but refuses an image with a clear message.
#include <gtest/gtest.h>

#include "core/json.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"

namespace kantu {
namespace {

using test::run_command;

const test::GgufPair& tiny_pair() {
  static const test::GgufPair pair = test::write_gguf_pair(
      test::testdata("models/qwen3vl-tiny-a"), test::make_temp_dir("gguf_cli"), DType::kBF16);
  return pair;
}

test::CommandResult run_kantu(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KANTU_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::vector<std::string> greedy(const std::string& model, std::vector<std::string> extra) {
  std::vector<std::string> args = {"run", "-m", model, "-p", "Describe the picture.", "--json",
                                   "--temperature", "0", "-n", "8", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(GgufCli, RunMatchesTheFolderWithAnImage) {
  const std::string image = test::testdata("images/img_256x256.png");
  const auto folder = run_kantu(greedy(test::testdata("models/qwen3vl-tiny-a"), {"--image", image}));
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  const auto gguf =
      run_kantu(greedy(tiny_pair().model, {"--mmproj", tiny_pair().mmproj, "--image", image}));
  ASSERT_EQ(gguf.exit_code, 0) << gguf.err;
  const Json want = parse_json(folder.out, "folder run");
  const Json got = parse_json(gguf.out, "gguf run");
  EXPECT_EQ(got["prompt_ids"], want["prompt_ids"]);
  EXPECT_EQ(got["ids"], want["ids"]);
  EXPECT_EQ(got["text"], want["text"]);
}

TEST(GgufCli, TextOnlyModelAnswersTextAndRefusesImages) {
  const auto text = run_kantu(greedy(tiny_pair().model, {}));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const auto folder = run_kantu(greedy(test::testdata("models/qwen3vl-tiny-a"), {}));
  EXPECT_EQ(parse_json(text.out, "gguf")["ids"], parse_json(folder.out, "folder")["ids"]);
  const auto image =
      run_kantu(greedy(tiny_pair().model, {"--image", test::testdata("images/img_256x256.png")}));
  EXPECT_NE(image.exit_code, 0);
  EXPECT_NE(image.err.find("--mmproj"), std::string::npos) << image.err;
}

TEST(GgufCli, InfoDescribesThePair) {
  const auto r = run_kantu({"info", "-m", tiny_pair().model, "--mmproj", tiny_pair().mmproj});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = parse_json(r.out, "info");
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["has_vision"], true);
  EXPECT_EQ(j["vision"]["depth"], 4);
  EXPECT_EQ(j["files"].size(), 2u);
  const auto swapped = run_kantu({"info", "-m", tiny_pair().mmproj});
  EXPECT_NE(swapped.exit_code, 0);
  EXPECT_NE(swapped.err.find("--mmproj"), std::string::npos) << swapped.err;
}

// A folder holding the pair (as a download of a GGUF repository does) is the pair: the
// text file and the mmproj are picked as `kantu pull` picks them.
TEST(GgufCli, AFolderOfGgufFilesIsItsPair) {
  const std::string dir = tiny_pair().model.substr(0, tiny_pair().model.rfind('/'));
  const auto r = run_kantu({"info", "-m", dir});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json j = parse_json(r.out, "info");
  EXPECT_EQ(j["format"], "gguf");
  EXPECT_EQ(j["has_vision"], true);
  EXPECT_EQ(j["model_dir"], tiny_pair().model);
  EXPECT_EQ(j["files"].size(), 2u);
  const auto run = run_kantu(greedy(dir, {"--image", test::testdata("images/img_256x256.png")}));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const std::string empty = test::make_temp_dir("gguf_cli_empty");
  const auto none = run_kantu({"info", "-m", empty});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("config.json"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace kantu
