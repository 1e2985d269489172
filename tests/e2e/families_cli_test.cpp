// Every command on the Qwen2.5-VL and Qwen2-VL tiny models (folders, and synthesized
// folders and GGUF pairs): info, tokenize, prompt, preprocess, eval run, serve, synth and
// bench work for any registered family, with the family's own chat format, processor
// settings and stop tokens. (run is in run_cli_test.cpp, against the goldens.)
#include <gtest/gtest.h>

#include <tuple>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "core/json.h"
#include "server/http_server.h"
#include "server/real_engine.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

test::CommandResult kantu_cmd(std::vector<std::string> args) {
  args.insert(args.begin(), KANTU_EXE);
  return test::run_command(args);
}

struct Family {
  const char* model;   // models/<model>
  const char* golden;  // goldens/<golden>
  const char* type;    // model_type
};

// For gtest (ctest's listing, failures): the model folder, not the raw bytes.
void PrintTo(const Family& f, std::ostream* os) { *os << f.model; }
constexpr Family kFamilies[] = {{"qwen25vl-tiny-a", "qwen25vl", "qwen2_5_vl"},
                                {"qwen2vl-tiny-a", "qwen2vl", "qwen2_vl"}};

class FamiliesCli : public ::testing::TestWithParam<Family> {
 protected:
  std::string model() const { return test::testdata(std::string("models/") + GetParam().model); }
  std::string golden(const std::string& rel) const {
    return test::testdata(std::string("goldens/") + GetParam().golden + "/" + rel);
  }
};

TEST_P(FamiliesCli, InfoNamesTheFamilyAndItsSizes) {
  const auto r = kantu_cmd({"info", "-m", model()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = parse_json(r.out, "info");
  EXPECT_EQ(out["family"], GetParam().type);
  EXPECT_EQ(out["text"]["hidden_size"], 32);
  EXPECT_EQ(out["text"]["head_dim"], 16);
  EXPECT_EQ(out["vision"]["patch_size"], 14);
  EXPECT_EQ(out["vision"]["hidden_size"], 64);
  EXPECT_EQ(out["vision"]["out_hidden_size"], 32);
  EXPECT_EQ(out["preprocessor"]["min_pixels"], 3136);
  EXPECT_EQ(out["preprocessor"]["patch_size"], 14);
  const bool v25 = std::string(GetParam().type) == "qwen2_5_vl";
  EXPECT_EQ(out["vision"].contains("window_size"), v25);
  if (v25) {
    EXPECT_EQ(out["vision"]["fullatt_block_indexes"], (Json{1, 3}));
  }
}

// The chat goldens' rendered prompts (default system prompt) and ids (all of them are
// checked in unit_text), and the tokenizer.
TEST_P(FamiliesCli, PromptAndTokenizeMatchTheGoldens) {
  const std::string dir = test::make_temp_dir("families_prompt");
  const Json goldens = read_json_file(golden("chat_template.json"));
  int checked = 0;
  for (const Json& c : goldens.at("cases")) {
    if (checked == 3) break;  // each run loads the tokenizer: three cases keep it quick
    test::write_text_file(dir + "/m.json", c.at("messages").dump());
    const auto r = kantu_cmd({"prompt", "-m", model(), "--messages", dir + "/m.json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json out = parse_json(r.out, "prompt");
    EXPECT_EQ(out["prompt"], c.at("rendered")) << c.at("name");
    EXPECT_EQ(out["ids"], c.at("ids")) << c.at("name");
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  const auto r = kantu_cmd({"tokenize", "-m", model(), "Hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out, "tokenize")["ids"], (Json{9707, 1879}));
}

// An image prompt's <|image_pad|> count comes from the family's processor (14-pixel
// patches, 3136..12845056 pixels): the one_image golden's input ids exactly.
TEST_P(FamiliesCli, PromptWithAnImageAndPreprocess) {
  const std::string dir = test::make_temp_dir("families_image");
  const Json g = read_json_file(golden("tiny-a/full_model/one_image.json"));
  Json messages = g.at("messages");
  for (Json& part : messages[0]["content"]) {
    if (part["type"] == "image") part["image"] = test::testdata("images/" + g["images"][0].get<std::string>());
  }
  test::write_text_file(dir + "/m.json", messages.dump());
  auto r = kantu_cmd({"prompt", "-m", model(), "--messages", dir + "/m.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out, "prompt")["ids"], g.at("input_ids"));

  r = kantu_cmd({"preprocess", "-m", model(), "--image", test::testdata("images/img_288x352.png"),
             "--out", dir + "/pv.safetensors"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = parse_json(r.out, "preprocess");
  EXPECT_EQ(out["grid_thw"], (Json{1, 26, 20}));
  EXPECT_EQ(out["tokens"], 130);
  EXPECT_EQ(out["resized"], (Json{364, 280}));
  EXPECT_TRUE(fs::exists(dir + "/pv.safetensors"));
  // bad input is a clear error
  test::write_text_file(dir + "/not.png", "not an image");
  r = kantu_cmd({"preprocess", "-m", model(), "--image", dir + "/not.png"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(r.err.empty());
}

TEST_P(FamiliesCli, EvalRunCaptionsEveryImage) {
  const std::string dir = test::make_temp_dir("families_eval");
  Json ann = {{"images", Json::array()}, {"annotations", Json::array()}};
  const char* files[] = {"grad_256x256.png", "model_sq_224x224.png"};
  for (int i = 0; i < 2; ++i) {
    ann["images"].push_back({{"id", i + 1}, {"file_name", files[i]}});
    ann["annotations"].push_back({{"image_id", i + 1}, {"caption", "a test picture"}});
  }
  test::write_text_file(dir + "/captions.json", ann.dump());
  const auto r = kantu_cmd({"eval", "run", "-m", model(), "--annotations", dir + "/captions.json",
                        "--images", test::testdata("images"), "--max-tokens", "4", "--threads",
                        "2", "--out", dir + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json_file(dir + "/run/results.json").size(), 2u);
}

// kantu serve, in process: a chat with an image answers with the greedy tokens of
// `kantu run` on the same prompt.
TEST_P(FamiliesCli, ServeAnswersAChatWithAnImage) {
  server::RealEngineOptions eo;
  eo.threads = 2;
  eo.context_length = 512;
  auto engine = server::load_real_engine(model(), eo);
  server::ServerOptions so;
  so.port = 0;
  server::HttpServer http(so);
  const int port = http.bind();
  http.set_engine(engine.get());
  std::thread runner([&] { http.run(); });
  std::ifstream in(test::testdata("images/img_288x352.png"), std::ios::binary);
  std::stringstream png;
  png << in.rdbuf();
  const Json messages = Json::array(
      {{{"role", "user"},
        {"content", Json::array({{{"type", "image_url"},
                                  {"image_url", {{"url", "data:image/png;base64," + base64_encode(png.str())}}}},
                                 {{"type", "text"}, {"text", "What is in this image?"}}})}}});
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  const Json body = {{"messages", messages}, {"max_tokens", 6}, {"temperature", 0},
                     {"repetition_penalty", 1.0}};
  const auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  http.stop();
  runner.join();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const Json reply = parse_json(res->body, "reply");
  // 130 image tokens + the default system prompt + the question (the one_image golden).
  EXPECT_EQ(reply["usage"]["prompt_tokens"], 157) << res->body;
  EXPECT_EQ(reply["usage"]["completion_tokens"], 6);
}

INSTANTIATE_TEST_SUITE_P(E2E, FamiliesCli, ::testing::ValuesIn(kFamilies),
                         [](const ::testing::TestParamInfo<Family>& p) {
                           return std::string(p.param.golden);
                         });

// kantu synth --like qwen2.5-vl-tiny / qwen2-vl-tiny, as a folder and a GGUF pair, then
// bench and run on them.
TEST(FamiliesSynth, SynthBenchAndRunOnFoldersAndGgufPairs) {
  const std::string dir = test::make_temp_dir("families_synth");
  const std::string tok = test::testdata("models/qwen25vl-tiny-a");
  for (const char* like : {"qwen2.5-vl-tiny", "qwen2-vl-tiny"}) {
    SCOPED_TRACE(like);
    const std::string out = dir + "/" + like;
    auto r = kantu_cmd({"synth", "--like", like, "--tokenizer-from", tok, "--out", out + "-hf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = kantu_cmd({"synth", "--like", like, "--tokenizer-from", tok, "--out", out + "-gguf",
               "--format", "gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = kantu_cmd({"bench", "-m", out + "-gguf/model.gguf", "--mmproj", out + "-gguf/mmproj.gguf",
               "--image-size", "112", "--gen-tokens", "3", "--threads", "2", "--json",
               "--no-peaks"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json j = parse_json(r.out, "bench");
    EXPECT_EQ(j["generated_tokens"], 3);
    EXPECT_GT(j["image_ms"].get<double>(), 0.0);
    r = kantu_cmd({"info", "-m", out + "-gguf/model.gguf", "--mmproj", out + "-gguf/mmproj.gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(parse_json(r.out, "info")["family"],
              std::string(like) == "qwen2.5-vl-tiny" ? "qwen2_5_vl" : "qwen2_vl");
    // The folder and the pair greedy-decode the same tokens.
    std::string ids[2];
    for (int k = 0; k < 2; ++k) {
      std::vector<std::string> args = {"run", "-m", k == 0 ? out + "-hf" : out + "-gguf/model.gguf",
                                       "-p", "Hello", "--temperature", "0", "-n", "5", "--json",
                                       "--threads", "2", "--repetition-penalty", "1"};
      if (k == 1) args.insert(args.end(), {"--mmproj", out + "-gguf/mmproj.gguf"});
      r = kantu_cmd(args);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      ids[k] = parse_json(r.out, "run")["ids"].dump();
    }
    EXPECT_EQ(ids[0], ids[1]);
  }
}

// kantu synth --like llava-1.5-tiny / llava-next-tiny with the tiny LLaVA tokenizers, as a
// folder and as llama.cpp's pair (a folder of both files, opened as the pair): the same
// prompt ids and greedy tokens on an image, and info names the family.
TEST(FamiliesSynth, LlavaFoldersAndGgufPairsAnswerAlike) {
  const std::string dir = test::make_temp_dir("llava_synth");
  const std::string image = test::testdata("images/img_256x256.png");
  for (const auto& [like, tok, family] : {std::tuple{"llava-1.5-tiny", "llava15-tiny-a", "llava"},
                                          std::tuple{"llava-next-tiny", "llava-next-tiny-a", "llava_next"}}) {
    SCOPED_TRACE(like);
    const std::string out = dir + "/" + like, tokenizer = test::testdata(std::string("models/") + tok);
    auto r = kantu_cmd({"synth", "--like", like, "--tokenizer-from", tokenizer, "--out", out + "-hf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = kantu_cmd({"synth", "--like", like, "--tokenizer-from", tokenizer, "--out", out + "-gguf", "--format", "gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = kantu_cmd({"info", "-m", out + "-gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(parse_json(r.out, "info")["family"], family);
    Json runs[2];
    for (int k = 0; k < 2; ++k) {
      r = kantu_cmd({"run", "-m", out + (k == 0 ? "-hf" : "-gguf"), "-p", "Describe.", "--image", image,
                     "--temperature", "0", "-n", "5", "--json", "--threads", "2"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      runs[k] = parse_json(r.out, "run");
    }
    EXPECT_EQ(runs[0]["prompt_ids"], runs[1]["prompt_ids"]);
    EXPECT_EQ(runs[0]["ids"], runs[1]["ids"]);
  }
}

}  // namespace
}  // namespace kantu
