// kantu run end to end on the tiny checkpoints: greedy ids equal to the reference
// (transformers) goldens, streaming, --dump-logits, and clear errors for bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/json.h"
#include "formats/safetensors.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;
using test::run_command;

// Golden image names are relative to shared/ ("images/x.png") or to shared/images.
std::string golden_image(const std::string& name) {
  return name.rfind("images/", 0) == 0 ? test::testdata(name) : test::testdata("images/" + name);
}

test::CommandResult kantu_run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KANTU_EXE, "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// Runs the golden's messages and images greedily; returns the parsed --json output.
Json run_golden_case(const std::string& model, const std::string& case_json,
                     const std::string& temp, const std::vector<std::string>& extra = {}) {
  const Json golden = read_json_file(case_json);
  const std::string messages = temp + "/" + fs::path(case_json).stem().string() + ".messages.json";
  test::write_text_file(messages, golden["messages"].dump());
  std::vector<std::string> args = {"-m", test::testdata("models/" + model), "--messages", messages,
                                   "--json", "--temperature", "0", "-n",
                                   std::to_string(golden["generated_ids"].size()), "--threads",
                                   "2"};
  for (const auto& img : golden["images"]) {
    args.push_back("--image");
    args.push_back(golden_image(img.get<std::string>()));
  }
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = kantu_run(args);
  EXPECT_EQ(r.exit_code, 0) << case_json << "\n" << r.err;
  if (r.exit_code != 0) return Json();
  EXPECT_NE(r.err.find("prefill"), std::string::npos) << "no timing summary on stderr";
  return parse_json(r.out, "kantu run --json output");
}

void expect_greedy_matches_goldens(const std::string& model, const std::string& golden_dir,
                                   const std::vector<std::string>& extra = {}) {
  const std::string temp = test::make_temp_dir("run_" + model);
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(test::testdata(golden_dir))) {
    if (entry.path().extension() != ".json") continue;
    const Json golden = read_json_file(entry.path().string());
    if (!golden.contains("generated_ids")) continue;
    ++cases;
    const Json out = run_golden_case(model, entry.path().string(), temp, extra);
    if (out.is_null()) continue;
    EXPECT_EQ(out["prompt_ids"], golden["input_ids"]) << entry.path();
    EXPECT_EQ(out["ids"], golden["generated_ids"]) << entry.path();
    EXPECT_TRUE(out["text"].is_string());
    for (const char* key : {"image_ms", "prefill_ms", "prefill_tok_s", "decode_tok_s", "ttft_ms"})
      EXPECT_TRUE(out["timings"].contains(key)) << key;
    EXPECT_GT(out["peak_rss_mb"].get<double>(), 0.0);
  }
  EXPECT_GE(cases, 3) << golden_dir;
}

TEST(RunCli, GreedyIdsMatchTheGoldensTinyA) {
  expect_greedy_matches_goldens("qwen3vl-tiny-a", "goldens/qwen3vl/tiny-a/full_model");
}

TEST(RunCli, GreedyIdsMatchTheGoldensTinyC) {
  expect_greedy_matches_goldens("qwen3vl-tiny-c", "goldens/qwen3vl/tiny-c/full_model");
}

// The goldens ran generate() with repetition_penalty 1.0; the Qwen2.5-VL folder's
// generation_config.json says 1.05 (as the released one does).
TEST(RunCli, GreedyIdsMatchTheGoldensQwen25VL) {
  expect_greedy_matches_goldens("qwen25vl-tiny-a", "goldens/qwen25vl/tiny-a/full_model",
                                {"--repetition-penalty", "1"});
}
TEST(RunCli, GreedyIdsMatchTheGoldensQwen2VL) {
  expect_greedy_matches_goldens("qwen2vl-tiny-a", "goldens/qwen2vl/tiny-a/full_model",
                                {"--repetition-penalty", "1"});
}

TEST(RunCli, StreamsTextWithImageAndTextOnly) {
  const std::string model = test::testdata("models/qwen3vl-tiny-c");
  auto r = kantu_run({"-m", model, "--image", test::testdata("images/grad_256x256.png"), "-p",
                      "What is this?", "-n", "8", "--temperature", "0.7", "--seed", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_NE(r.err.find("image"), std::string::npos);
  EXPECT_NE(r.err.find("peak RSS"), std::string::npos);
  // the same seed gives the same text
  auto again = kantu_run({"-m", model, "--image", test::testdata("images/grad_256x256.png"), "-p",
                          "What is this?", "-n", "8", "--temperature", "0.7", "--seed", "5"});
  EXPECT_EQ(again.out, r.out);
  auto text_only = kantu_run({"-m", model, "-p", "Hello", "-n", "4", "--json", "--top-k", "5",
                              "--top-p", "0.9", "--min-p", "0.01", "--repetition-penalty", "1.1",
                              "--presence-penalty", "0.5", "--stop", "zzz"});
  ASSERT_EQ(text_only.exit_code, 0) << text_only.err;
  const Json j = parse_json(text_only.out, "output");
  EXPECT_LE(j["ids"].size(), 4u);
  EXPECT_EQ(j["timings"]["image_ms"], 0);
}

TEST(RunCli, DumpLogitsHasOneRowPerPromptPositionAndMatchesTheReference) {
  const std::string temp = test::make_temp_dir("run_dump");
  const std::string case_json = test::testdata("goldens/qwen3vl/tiny-a/full_model/one_image.json");
  const std::string dump = temp + "/logits.safetensors";
  const Json out = run_golden_case("qwen3vl-tiny-a", case_json, temp, {"--dump-logits", dump});
  ASSERT_FALSE(out.is_null());
  const auto file = SafetensorsFile::open(dump);
  const TensorView& logits = file.get("logits");
  ASSERT_EQ(logits.dtype, DType::kF32);
  ASSERT_EQ(logits.shape, (std::vector<int64_t>{static_cast<int64_t>(out["prompt_ids"].size()), 151936}));
  // against the reference rows (every position, or those in logits_positions)
  const auto ref_file = SafetensorsFile::open(
      test::testdata("goldens/qwen3vl/tiny-a/full_model/one_image.safetensors"));
  const std::vector<float> ref = to_f32(ref_file.get("logits"));
  const int64_t vocab = 151936;
  std::vector<int64_t> positions;
  if (ref_file.has("logits_positions")) {
    const TensorView& pos = ref_file.get("logits_positions");
    ASSERT_EQ(pos.dtype, DType::kI64);
    positions.assign(pos.as<int64_t>(), pos.as<int64_t>() + pos.numel());
  } else
    for (int64_t p = 0; p < logits.shape[0]; ++p) positions.push_back(p);
  ASSERT_EQ(static_cast<int64_t>(ref.size()), static_cast<int64_t>(positions.size()) * vocab);
  double max_diff = 0;
  for (size_t r = 0; r < positions.size(); ++r)
    for (int64_t v = 0; v < vocab; ++v)
      max_diff = std::max<double>(
          max_diff, std::fabs(logits.as<float>()[positions[r] * vocab + v] - ref[r * vocab + v]));
  EXPECT_LT(max_diff, 1e-3);
}

TEST(RunCli, BadInputIsAClearError) {
  const std::string temp = test::make_temp_dir("run_bad");
  const std::string model = test::testdata("models/qwen3vl-tiny-a");
  auto expect_error = [&](const std::vector<std::string>& args, const std::string& needle) {
    const auto r = kantu_run(args);
    EXPECT_NE(r.exit_code, 0) << needle;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  };
  expect_error({"-m", model, "--image", temp + "/missing.png", "-p", "hi"}, "missing.png");
  test::write_text_file(temp + "/corrupt.png", "\x89PNG\r\n\x1a\nthis is not a png");
  expect_error({"-m", model, "--image", temp + "/corrupt.png", "-p", "hi"}, "corrupt.png");
  expect_error({"-m", model, "--image", test::testdata("images/grad_256x256.png"), "-p", "hi",
                "--max-context", "10"},
               "context");
  expect_error({"-m", model, "-p", "hi", "--temperature", "-1"}, "temperature");
  expect_error({"-m", model, "-p", "hi", "--top-p", "1.5"}, "top_p");
  expect_error({"-m", model}, "-p");
  expect_error({"-m", model, "-p", "hi", "--messages", temp + "/m.json"}, "excludes");
  expect_error({"-m", temp + "/no-model", "-p", "hi"}, "no-model");
  test::write_text_file(temp + "/bad.json", "[{\"role\": \"user\", \"content\": 5}]");
  expect_error({"-m", model, "--messages", temp + "/bad.json"}, "bad.json");
  test::write_text_file(temp + "/two.json",
                        "[{\"role\":\"user\",\"content\":[{\"type\":\"image\"},{\"type\":\"text\","
                        "\"text\":\"x\"}]}]");
  expect_error({"-m", model, "--messages", temp + "/two.json"}, "image");
}

}  // namespace
}  // namespace kantu
