// `kantu tokenize` and `kantu prompt` end to end, against the reference goldens.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/testdata.h"

namespace {

using kantu::test::run_command;
using kantu::test::testdata;
using Json = nlohmann::ordered_json;

Json read_golden(const std::string& name) {
  std::ifstream in(testdata("goldens/qwen3vl/" + name));
  return Json::parse(in);
}

Json run_ok(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KANTU_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return Json();
  return Json::parse(r.out);
}

void run_fails(const std::vector<std::string>& args, const std::string& needle) {
  std::vector<std::string> argv = {KANTU_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = run_command(argv);
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// The golden case whose text contains both special tokens and CJK/emoji-free text.
const Json& find_case(const Json& cases, const std::string& prefix) {
  for (const auto& c : cases) {
    if (c["text"].get<std::string>().rfind(prefix, 0) == 0) return c;
  }
  throw std::runtime_error("golden case not found: " + prefix);
}

TEST(TextCli, TokenizeAndDecodeMatchTheGoldens) {
  const Json golden = read_golden("tokenizer.json");
  const std::string model = testdata("models/qwen3vl-tiny-c");
  const Json& chat = find_case(golden["cases"], "<|im_start|>user\nHi");
  const std::string text = chat["text"];
  EXPECT_EQ(run_ok({"tokenize", "-m", model, "--special", text})["ids"], chat["ids"]);
  EXPECT_EQ(run_ok({"tokenize", "-m", model, text})["ids"], chat["ids_split_special_tokens"]);

  const Json& cjk = find_case(golden["cases"], "你好，世界");
  const std::string dir = kantu::test::make_temp_dir("textcli");
  kantu::test::write_text_file(dir + "/in.txt", cjk["text"].get<std::string>());
  EXPECT_EQ(run_ok({"tokenize", "-m", testdata("models/qwen3vl-tiny-a"), "--file", dir + "/in.txt"})["ids"],
            cjk["ids"]);

  std::string list;
  for (const auto& id : chat["ids"]) list += (list.empty() ? "" : ",") + std::to_string(id.get<int>());
  EXPECT_EQ(run_ok({"tokenize", "-m", model, "--decode", list})["text"], chat["decode"]);
}

TEST(TextCli, PromptMatchesTheChatGoldens) {
  const Json golden = read_golden("chat_template.json");
  const std::string dir = kantu::test::make_temp_dir("textcli");
  const auto& c = golden["cases"][0];  // one image + text
  kantu::test::write_text_file(dir + "/messages.json", c["messages"].dump());
  const Json out = run_ok({"prompt", "-m", testdata("models/qwen3vl-tiny-a"), "--messages",
                           dir + "/messages.json"});
  EXPECT_EQ(out["prompt"], c["rendered"]);
  EXPECT_EQ(out["ids"], c["ids"]);

  // With a token count the single <|image_pad|> becomes that many.
  const Json expanded = run_ok({"prompt", "-m", testdata("models/qwen3vl-tiny-c"), "--messages",
                                dir + "/messages.json", "--image-tokens", "7"});
  EXPECT_EQ(expanded["prompt"], c["rendered"]);
  size_t pads = 0;
  for (const auto& id : expanded["ids"]) pads += id.get<int>() == 151655;
  EXPECT_EQ(pads, 7u);
  EXPECT_EQ(expanded["ids"].size(), c["ids"].size() + 6);
}

// Without --image-tokens, images with a source are decoded and sized with smart_resize;
// the counts must equal the preprocessing goldens' num_image_tokens.
TEST(TextCli, PromptCountsImageTokensFromTheImages) {
  std::ifstream in(testdata("goldens/qwen3vl/preprocess/cases.json"));
  const Json cases = Json::parse(in)["cases"];
  std::vector<std::pair<std::string, int64_t>> images;  // path, expected tokens
  for (const auto& c : cases) {
    const std::string name = c["name"];
    if (c["kwargs"].empty() && (name == "noise_720x400" || name == "edges_500x375")) {
      images.emplace_back(testdata(c["file"].get<std::string>()), c["num_image_tokens"].get<int64_t>());
    }
  }
  ASSERT_EQ(images.size(), 2u);
  const std::string dir = kantu::test::make_temp_dir("textcli");
  Json messages = Json::parse(R"([{"role":"user","content":[]}])");
  auto& content = messages[0]["content"];
  content.push_back({{"type", "image"}, {"image", images[0].first}});
  content.push_back({{"type", "image_url"}, {"image_url", {{"url", "file://" + images[1].first}}}});
  content.push_back({{"type", "image"}});  // no source: stays single
  content.push_back({{"type", "text"}, {"text", "Compare."}});
  kantu::test::write_text_file(dir + "/messages.json", messages.dump());
  const Json out = run_ok({"prompt", "-m", testdata("models/qwen3vl-tiny-a"), "--messages",
                           dir + "/messages.json"});
  std::vector<int64_t> runs;  // lengths of the <|image_pad|> runs
  int64_t run = 0;
  for (const auto& id : out["ids"]) {
    if (id.get<int>() == 151655) {
      ++run;
    } else if (run > 0) {
      runs.push_back(run);
      run = 0;
    }
  }
  EXPECT_EQ(runs, (std::vector<int64_t>{images[0].second, images[1].second, 1}));

  kantu::test::write_text_file(dir + "/missing.json",
                               R"([{"role":"user","content":[{"type":"image","image":"/no/such.png"}]}])");
  run_fails({"prompt", "-m", testdata("models/qwen3vl-tiny-a"), "--messages", dir + "/missing.json"},
            "/no/such.png");
}

TEST(TextCli, BadInputFailsWithAClearMessage) {
  const std::string model = testdata("models/qwen3vl-tiny-a");
  const std::string dir = kantu::test::make_temp_dir("textcli");
  kantu::test::write_text_file(dir + "/bad.txt", "abc\xff");
  run_fails({"tokenize", "-m", model, "--file", dir + "/bad.txt"}, "invalid UTF-8");
  run_fails({"tokenize", "-m", dir + "/nope", "hello"}, "nope");
  run_fails({"tokenize", "-m", model, "--decode", "1,x"}, "--decode");
  run_fails({"tokenize", "-m", model, "--decode", "999999999"}, "not in the vocabulary");
  run_fails({"tokenize", "-m", model}, "exactly one");
  kantu::test::write_text_file(dir + "/m.json", R"([{"role":"user","content":[{"type":"image"}]}])");
  run_fails({"prompt", "-m", model, "--messages", dir + "/m.json", "--image-tokens", "3,4"},
            "1 image");
  kantu::test::write_text_file(dir + "/bad.json", R"([{"role":"user","content":5}])");
  run_fails({"prompt", "-m", model, "--messages", dir + "/bad.json"}, "messages[0]");
}

}  // namespace
