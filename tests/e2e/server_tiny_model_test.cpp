// `kantu serve` with the real engine on the tiny Qwen3-VL checkpoint, in-process over
// loopback: both endpoints, streaming = non-streaming under greedy decoding, the image
// cache, bad images, context overflow, and 16 concurrent clients.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "server/base64.h"
#include "server/http_server.h"
#include "server/real_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TinyServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RealEngineOptions eo;
    eo.threads = 2;
    eo.context_length = 192;  // small: generation without max_tokens runs to the context end
    engine_ = load_real_engine(test::testdata("models/qwen3vl-tiny-a"), eo).release();
    ServerOptions so;
    so.port = 0;
    so.scheduler = {4, 16};
    http_ = new HttpServer(so);
    port_ = http_->bind();
    http_->set_engine(engine_);
    runner_ = new std::thread([] { http_->run(); });
  }
  static void TearDownTestSuite() {
    http_->stop();
    runner_->join();
    delete runner_;
    delete http_;
    delete engine_;
  }
  static httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(60, 0);
    return c;
  }
  static Json image_message(const std::string& image_bytes, const std::string& text) {
    return Json::array(
        {{{"role", "user"},
          {"content",
           Json::array({{{"type", "image_url"},
                         {"image_url", {{"url", "data:image/png;base64," + base64_encode(image_bytes)}}}},
                        {{"type", "text"}, {"text", text}}})}}});
  }
  static httplib::Result chat(const Json& body) {
    return client().Post("/v1/chat/completions", body.dump(), "application/json");
  }

  static Engine* engine_;
  static HttpServer* http_;
  static std::thread* runner_;
  static int port_;
};
Engine* TinyServer::engine_ = nullptr;
HttpServer* TinyServer::http_ = nullptr;
std::thread* TinyServer::runner_ = nullptr;
int TinyServer::port_ = 0;

TEST_F(TinyServer, ChatWithImageStreamingMatchesNonStreaming) {
  std::string png = read_file(test::testdata("images/img_256x256.png"));
  Json body = {{"messages", image_message(png, "Describe this image.")},
               {"max_tokens", 6}, {"temperature", 0}};
  auto r = chat(body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  // 256x256 fits the default budget as is: (256/32)^2 = 64 merged image tokens.
  EXPECT_EQ(j["timings"]["image_tokens"], 64);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 64);
  int completion = j["usage"]["completion_tokens"];
  EXPECT_GE(completion, 1);
  EXPECT_LE(completion, 6);
  std::string text = j["choices"][0]["message"]["content"];

  // The same request streamed: greedy, so the same text.
  body["stream"] = true;
  std::string raw;
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = body.dump();
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    raw.append(d, n);
    return true;
  };
  auto sr = client().send(req);
  ASSERT_TRUE(sr);
  EXPECT_EQ(sr->status, 200);
  std::string streamed;
  bool cached = false;
  size_t pos = 0;
  while ((pos = raw.find("data: ", pos)) != std::string::npos) {
    size_t end = raw.find("\n\n", pos);
    std::string payload = raw.substr(pos + 6, end - pos - 6);
    pos = end;
    if (payload == "[DONE]") break;
    Json e = Json::parse(payload);
    if (e.contains("timings")) cached = e["timings"]["cached"];
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content")) {
      streamed += e["choices"][0]["delta"]["content"];
    }
  }
  EXPECT_EQ(streamed, text);
  EXPECT_TRUE(cached) << "the second request with the same image should hit the cache";
}

TEST_F(TinyServer, VisionCompletionEndpoint) {
  std::string jpg = read_file(test::testdata("images/strokes_256x256.jpg"));
  httplib::MultipartFormDataItems items = {{"image", jpg, "a.jpg", "image/jpeg"}};
  auto r = client().Post("/v1/vision/completion", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(Json::parse(r->body)["result"].is_string());
  r = client().Post("/v1/vision/completion", httplib::MultipartFormDataItems{{"prompt", "hi", "", ""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "Missing image file");
}

TEST_F(TinyServer, BadInputIsRefusedUpFront) {
  std::string png = read_file(test::testdata("images/img_256x256.png"));
  auto r = chat({{"messages", image_message(png.substr(0, 100), "x")}});  // truncated PNG
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  r = chat({{"messages", image_message(png, "x")}, {"max_tokens", 100000}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_NE(r->body.find("context"), std::string::npos);
  r = chat({{"messages", image_message(png, "x")}, {"max_pixels", 1000000000}, {"min_pixels", 900000000}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;  // 880+ image tokens do not fit the context
  r = chat({{"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}, {"top_p", 0}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(TinyServer, SixteenConcurrentClients) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "hello " + std::to_string(i)}}})},
                   {"max_tokens", 3}, {"seed", i}};
      auto r = chat(body);
      if (r && r->status == 200 && Json::parse(r->body)["usage"]["completion_tokens"].get<int>() >= 1) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 16);
}

}  // namespace
}  // namespace kantu::server
