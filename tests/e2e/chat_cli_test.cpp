// kantu chat end to end on the tiny checkpoints of every family: scripted turns (one per
// stdin line) give the greedy answers `kantu run --messages` and `kantu serve` give for the
// same conversation, /save writes that conversation, /image, /reset and errors that leave the
// chat going, EOF ends it; and the interactive mode on a pseudo-terminal (line editing,
// history, Ctrl-D).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "core/base64.h"
#include "core/json.h"
#include "server/http_server.h"
#include "server/real_engine.h"
#include "support/testdata.h"
#include "support/tty_session.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> chat_argv(const std::string& model, std::vector<std::string> extra) {
  std::vector<std::string> argv = {KANTU_EXE, "chat", "-m", test::testdata("models/" + model),
                                   "--temperature", "0", "-n", "6", "--threads", "2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// `kantu run --messages` on the first `count` saved messages: the greedy answer to them.
std::string run_answer(const std::string& model, const Json& messages, size_t count,
                       const std::string& dir) {
  const std::string file = dir + "/first_" + std::to_string(count) + ".json";
  test::write_text_file(file, Json(std::vector<Json>(messages.begin(), messages.begin() + count)).dump());
  const auto r = test::run_command({KANTU_EXE, "run", "-m", test::testdata("models/" + model),
                                    "--messages", file, "--temperature", "0", "-n", "6",
                                    "--threads", "2", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? parse_json(r.out, "run --json")["text"].get<std::string>() : "";
}

// Waits for the prompt, then a little longer: libedit prints "> " before it switches the
// terminal to raw mode, and a Ctrl-D typed in between (still the cooked mode's EOF) is lost.
bool at_prompt(test::TtySession& tty) {
  if (!tty.wait_for("> ")) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return true;
}

// `kantu serve`'s greedy answer (in process, over loopback) to the first `count` saved
// messages, their file:// pictures sent as data: URLs as a web client sends them.
std::string server_answer(const std::string& model, Json messages, size_t count) {
  messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(count), messages.end());
  for (Json& m : messages)
    for (Json& part : m["content"])
      if (m["content"].is_array() && part["type"] == "image_url") {
        std::ifstream in(part["image_url"]["url"].get<std::string>().substr(7), std::ios::binary);
        std::stringstream bytes;
        bytes << in.rdbuf();
        part["image_url"]["url"] = "data:image/png;base64," + base64_encode(bytes.str());
      }
  server::RealEngineOptions eo;
  eo.threads = 2;
  eo.context_length = 4096;
  auto engine = server::load_real_engine(test::testdata("models/" + model), eo);
  server::ServerOptions so;
  so.port = 0;
  server::HttpServer http(so);
  const int port = http.bind();
  http.set_engine(engine.get());
  std::thread runner([&] { http.run(); });
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  // The server's sampling defaults are OpenAI's, not generation_config.json's: send the
  // model's repetition penalty, which greedy decoding still applies.
  const Json config = read_json_file(test::testdata("models/" + model + "/generation_config.json"));
  const Json body = {{"messages", messages}, {"max_tokens", 6}, {"temperature", 0},
                     {"repetition_penalty", config.value("repetition_penalty", 1.0)}};
  const auto res = c.Post("/v1/chat/completions", body.dump(), "application/json");
  http.stop();
  runner.join();
  EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no reply");
  if (!res || res->status != 200) return "";
  return parse_json(res->body, "reply")["choices"][0]["message"]["content"];
}

class ChatFamilies : public ::testing::TestWithParam<const char*> {};

TEST_P(ChatFamilies, ScriptedTurnsAnswerAsRunAndServeDoForTheSameConversation) {
  const std::string model = GetParam();
  const std::string dir = test::make_temp_dir(std::string("chat_") + model);
  const std::string image = test::testdata("images/img_256x256.png");
  const std::string saved = dir + "/chat.json";
  const auto r = test::run_command(chat_argv(model, {"--image", image}),
                                   "describe\nand the colours?\n/save " + saved + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const Json m = read_json_file(saved);
  ASSERT_EQ(m.size(), 4u) << m.dump(1);
  EXPECT_EQ(m[0]["role"], "user");
  ASSERT_EQ(m[0]["content"].size(), 2u);
  EXPECT_EQ(m[0]["content"][0]["type"], "image_url");
  EXPECT_EQ(m[0]["content"][0]["image_url"]["url"], "file://" + fs::absolute(image).lexically_normal().string());
  EXPECT_EQ(m[0]["content"][1], Json({{"type", "text"}, {"text", "describe"}}));
  EXPECT_EQ(m[1]["role"], "assistant");
  EXPECT_EQ(m[2]["content"], Json::array({{{"type", "text"}, {"text", "and the colours?"}}}));
  EXPECT_EQ(m[3]["role"], "assistant");
  const std::string first = m[1]["content"], second = m[3]["content"];
  EXPECT_EQ(r.out, first + "\n" + second + "\n") << "stdout is the streamed answers";

  EXPECT_EQ(first, run_answer(model, m, 1, dir));
  EXPECT_EQ(second, run_answer(model, m, 3, dir));
  EXPECT_EQ(first, server_answer(model, m, 1));
  EXPECT_EQ(second, server_answer(model, m, 3));
}

INSTANTIATE_TEST_SUITE_P(Tiny, ChatFamilies,
                         ::testing::Values("qwen3vl-tiny-a", "qwen25vl-tiny-a", "qwen2vl-tiny-a",
                                           "llava15-tiny-a", "llava-next-tiny-a"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) if (c == '-') c = '_';
                           return name;
                         });

TEST(ChatCli, ImageResetHelpAndErrorsKeepTheChatGoing) {
  const std::string dir = test::make_temp_dir("chat_commands");
  const std::string image = test::testdata("images/img_256x256.png");
  const std::string saved = dir + "/after_reset.json", before = dir + "/before_reset.json";
  const auto r = test::run_command(
      chat_argv("qwen3vl-tiny-a", {}),
      "/image " + dir + "/missing.png\n/image " + image + "\nwhat is it?\n/save " + before +
          "\n/reset\n\nwhat is it?\n/help\n/bogus\n/image\n/save " + dir + "/no/such/dir/x.json\n/save " +
          saved + "\n/quit\nnever asked\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("missing.png"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/image PATH"), std::string::npos) << "/help lists the commands\n" << r.err;
  EXPECT_NE(r.err.find("unknown command /bogus"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/image needs a file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no/such/dir/x.json"), std::string::npos) << r.err;

  const Json b = read_json_file(before);
  ASSERT_EQ(b.size(), 2u);
  ASSERT_EQ(b[0]["content"].size(), 2u) << "the good /image goes with the question, the bad one not";
  EXPECT_EQ(b[0]["content"][0]["type"], "image_url");

  const Json a = read_json_file(saved);
  ASSERT_EQ(a.size(), 2u) << "/reset forgot the first turn";
  EXPECT_EQ(a[0]["content"], Json::array({{{"type", "text"}, {"text", "what is it?"}}}));
  const std::string text_only = a[1]["content"];
  EXPECT_EQ(text_only, run_answer("qwen3vl-tiny-a", a, 1, dir));
  EXPECT_EQ(r.out, b[1]["content"].get<std::string>() + "\n" + text_only + "\n")
      << "nothing after /quit is asked";
}

TEST(ChatCli, AFailedTurnIsForgottenAndItsImageWaitsForTheNextQuestion) {
  const std::string dir = test::make_temp_dir("chat_failed_turn");
  const std::string image = test::testdata("images/img_256x256.png");
  // 40 tokens of context: the image's tokens do not fit.
  const auto r = test::run_command(chat_argv("qwen3vl-tiny-a", {"--image", image, "--max-context", "40"}),
                                   "describe\n/save " + dir + "/c.json\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kantu: error:"), std::string::npos) << r.err;
  EXPECT_EQ(read_json_file(dir + "/c.json"), Json::array());
}

TEST(ChatCli, BadImageOnTheCommandLineIsAnErrorBeforeTheModelLoads) {
  const auto r = test::run_command(chat_argv("qwen3vl-tiny-a", {"--image", "/nonexistent/x.png"}), "hi\n");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/x.png"), std::string::npos) << r.err;
}

TEST(ChatCli, EmptyInputEndsCleanly) {
  const auto r = test::run_command(chat_argv("qwen3vl-tiny-a", {}), "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

// The figures of each turn that -v printed: prompt tokens, cached tokens.
std::vector<std::pair<long, long>> turn_figures(const std::string& err) {
  const std::regex line(R"(turn (\d): (\d+) prompt tokens \((\d+) cached\) \+ \d+ new .*ttft [0-9.]+ ms .*tok/s)");
  std::vector<std::pair<long, long>> out;
  for (std::sregex_iterator it(err.begin(), err.end(), line), end; it != end; ++it)
    out.emplace_back(std::stol((*it)[2]), std::stol((*it)[3]));
  return out;
}

TEST(ChatCli, VerbosePrintsEachTurnsFiguresAndTheFollowUpReusesTheCache) {
  const std::vector<std::string> args = {"--image", test::testdata("images/img_256x256.png"), "-v"};
  const auto r = test::run_command(chat_argv("qwen3vl-tiny-a", args), "describe\nmore\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto turns = turn_figures(r.err);
  ASSERT_EQ(turns.size(), 2u) << r.err;
  EXPECT_GT(turns[1].first, turns[0].first) << "the second turn carries the first";
  EXPECT_EQ(turns[0].second, 0) << "nothing cached before the first turn";
  // The follow-up reuses the first question and its image (at least), not more than it had.
  EXPECT_GE(turns[1].second, turns[0].first - 8) << r.err;
  EXPECT_LT(turns[1].second, turns[1].first) << r.err;

  // --kv-cache-mb 0: no cache, the same answers.
  std::vector<std::string> off = args;
  off.insert(off.end(), {"--kv-cache-mb", "0"});
  const auto cold = test::run_command(chat_argv("qwen3vl-tiny-a", off), "describe\nmore\n");
  ASSERT_EQ(cold.exit_code, 0) << cold.err;
  const auto cold_turns = turn_figures(cold.err);
  ASSERT_EQ(cold_turns.size(), 2u) << cold.err;
  EXPECT_EQ(cold_turns[1].second, 0);
  EXPECT_EQ(cold.out, r.out) << "warm and cold turns answer alike";
}

TEST(ChatCli, InteractiveLineEditingHistoryAndCtrlD) {
  const std::string dir = test::make_temp_dir("chat_tty");
  // -v: the figures line after each answer tells when the answer is over.
  test::TtySession tty(chat_argv("qwen3vl-tiny-a", {"-v"}));
  ASSERT_TRUE(tty.wait_for("/help")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  // "abc", two steps left, "X": the question is "aXbc".
  tty.type("abc\x1b[D\x1b[DX\r");
  ASSERT_TRUE(tty.wait_for("turn 1:")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  // Arrow up recalls it; Enter asks it again.
  tty.type("\x1b[A\r");
  ASSERT_TRUE(tty.wait_for("turn 2:")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  tty.type("/save " + dir + "/tty.json\r");
  ASSERT_TRUE(tty.wait_for("saved 4 messages")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  tty.type("\x04");  // Ctrl-D
  EXPECT_EQ(tty.wait_exit(), 0) << tty.output();
  const Json m = read_json_file(dir + "/tty.json");
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0]["content"][0]["text"], "aXbc");
  EXPECT_EQ(m[2]["content"][0]["text"], "aXbc");
}

TEST(ChatCli, InteractiveCtrlCStopsTheAnswerNotTheChat) {
  const std::string dir = test::make_temp_dir("chat_tty_interrupt");
  std::vector<std::string> argv = chat_argv("qwen3vl-tiny-a", {"-v"});
  *(std::find(argv.begin(), argv.end(), "-n") + 1) = "100000";  // an answer that goes on until stopped
  test::TtySession tty(argv);
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  tty.type("tell me everything\r");
  ASSERT_TRUE(tty.wait_for("tell me everything\r\n")) << tty.output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the answer streams meanwhile
  tty.type("\x03");  // Ctrl-C
  ASSERT_TRUE(tty.wait_for("(cancelled)")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  tty.type("/save " + dir + "/c.json\r");
  ASSERT_TRUE(tty.wait_for("saved 2 messages")) << tty.output();
  ASSERT_TRUE(at_prompt(tty)) << tty.output();
  tty.type("\x04");
  EXPECT_EQ(tty.wait_exit(), 0) << tty.output();
  const Json m = read_json_file(dir + "/c.json");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_FALSE(m[1]["content"].get<std::string>().empty()) << "the answer as far as it got is kept";
}

}  // namespace
}  // namespace kantu
