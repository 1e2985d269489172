// `kantu serve` with the real engine on the tiny Qwen3-VL checkpoint, in-process over
// loopback: both endpoints, streaming = non-streaming under greedy decoding, the image
// cache, bad images, context overflow, 16 concurrent clients, batched decoding giving
// the same tokens as a request served alone, and a non-streaming client that hangs up.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/json.h"
#include "core/timer.h"
#include "core/base64.h"
#include "server/http_server.h"
#include "server/real_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

using namespace std::chrono_literals;

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

// The text of a streaming chat completion, read off the SSE events.
std::string streamed_text(int port, const Json& body) {
  std::string raw;
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = body.dump();
  req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
    raw.append(d, n);
    return true;
  };
  auto r = c.send(req);
  if (!r || r->status != 200) return "<failed>";
  std::string text;
  size_t pos = 0;
  while ((pos = raw.find("data: ", pos)) != std::string::npos) {
    size_t end = raw.find("\n\n", pos);
    std::string payload = raw.substr(pos + 6, end - pos - 6);
    pos = end;
    if (payload == "[DONE]") break;
    Json e = Json::parse(payload);
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content")) {
      text += e["choices"][0]["delta"]["content"];
    }
  }
  return text;
}

int64_t metric(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
}

TEST_F(TinyServer, BatchedStreamsGiveTheSameTokensAsAlone) {
  // Greedy: each request alone first, then all of them at once as concurrent streams,
  // decoded in shared batched steps. Batched decoding must not change a single token.
  const int n = 4;
  auto body = [](int i) {
    return Json{{"messages", Json::array({{{"role", "user"},
                                           {"content", "Tell me about number " + std::to_string(i)}}})},
                {"max_tokens", 48}, {"temperature", 0}, {"stream", true}};
  };
  std::vector<std::string> alone(n), batched(n);
  for (int i = 0; i < n; ++i) alone[i] = streamed_text(port_, body(i));
  std::string before = client().Get("/metrics")->body;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] { batched[i] = streamed_text(port_, body(i)); });
  }
  for (auto& t : threads) t.join();
  std::string after = client().Get("/metrics")->body;
  for (int i = 0; i < n; ++i) {
    EXPECT_NE(alone[i], "<failed>");
    EXPECT_GE(alone[i].size(), 20u) << "too short to compare: " << alone[i];
    EXPECT_EQ(batched[i], alone[i]) << "request " << i;
  }
  // The concurrent round really shared steps: more sequences than steps.
  int64_t steps = metric(after, "kantu_decode_batches_total") - metric(before, "kantu_decode_batches_total");
  int64_t seqs = metric(after, "kantu_decode_batch_sequences_total") -
                 metric(before, "kantu_decode_batch_sequences_total");
  EXPECT_GT(steps, 0);
  EXPECT_GT(seqs, steps) << "no decode step held more than one sequence";
}

// A server with room for a long generation, so a client can leave in the middle.
TEST(TinyServerLong, NonStreamingClientThatHangsUpIsCancelled) {
  RealEngineOptions eo;
  eo.threads = 2;
  eo.context_length = 8192;
  auto engine = load_real_engine(test::testdata("models/qwen3vl-tiny-a"), eo);
  ServerOptions so;
  so.port = 0;
  HttpServer http(so);
  int port = http.bind();
  http.set_engine(engine.get());
  std::thread runner([&] { http.run(); });

  // 8000 tokens take several seconds on the tiny model; sampling at temperature 1
  // from its near-uniform distribution over 150k ids practically never picks EOS.
  Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "Go on forever."}}})},
               {"max_tokens", 8000}, {"temperature", 1.0}, {"top_k", 0}, {"top_p", 1.0}, {"seed", 7}};
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  // The status line comes once the first token exists; then hang up.
  char buf[512];
  ssize_t got = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(got, 12);
  EXPECT_EQ(std::string(buf, 12), "HTTP/1.1 200");
  ::close(fd);
  Timer t;

  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  std::string m;
  while (t.ms() < 5000) {
    m = c.Get("/metrics")->body;
    if (metric(m, "kantu_cancelled_sequences_total") == 1 && metric(m, "kantu_active_sequences") == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(metric(m, "kantu_cancelled_sequences_total"), 1) << m;
  EXPECT_EQ(metric(m, "kantu_active_sequences"), 0) << m;
  EXPECT_EQ(metric(m, "kantu_completion_tokens_total"), 0) << "the request ran to its end";
  // And the server goes on serving.
  auto r = c.Post("/v1/chat/completions",
                  Json{{"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})},
                       {"max_tokens", 3}}.dump(),
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  http.stop();
  runner.join();
}

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
  // /metrics reads the engine's image cache: the image's embedding is in it (other tests
  // of the suite may have left theirs).
  const std::string m = client().Get("/metrics")->body;
  EXPECT_GE(metric(m, "kantu_image_cache_entries"), 1) << m;
  EXPECT_GT(metric(m, "kantu_image_cache_bytes"), 0) << m;
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
