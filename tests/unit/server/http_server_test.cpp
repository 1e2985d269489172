// The HTTP API over loopback with the fake engine: both endpoints, streaming, every
// error path, concurrency, overload, cancellation, the image cache, metrics, drain.
#include "server/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "core/json.h"
#include "core/timer.h"
#include "core/base64.h"
#include "support/fake_engine.h"

namespace kantu::server {
namespace {

using namespace std::chrono_literals;

// A fake PNG: the magic bytes are all the fake engine looks at.
std::string fake_png(char variant = 'a') {
  std::string png("\x89PNG\r\n\x1A\n", 8);
  png.append(64, variant);  // not operator+: GCC 12 warns falsely (-Warray-bounds) on it
  return png;
}

struct TestServer {
  explicit TestServer(FakeEngine::Options eo = {}, ServerOptions so = {}, bool ready = true)
      : engine(eo), http(with_port0(so)) {
    port = http.bind();
    if (ready) http.set_engine(&engine);
    runner = std::thread([this] { http.run(); });
  }
  ~TestServer() {
    http.stop();
    runner.join();
  }
  static ServerOptions with_port0(ServerOptions so) {
    so.port = 0;
    return so;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(20, 0);
    return c;
  }
  httplib::Result chat(const Json& body) const {
    return client().Post("/v1/chat/completions", body.dump(), "application/json");
  }

  FakeEngine engine;
  HttpServer http;
  int port = 0;
  std::thread runner;
};

Json user(const std::string& text) {
  return Json::array({{{"role", "user"}, {"content", text}}});
}

Json user_with_image(const std::string& text, const std::string& image) {
  return Json::array(
      {{{"role", "user"},
        {"content",
         Json::array({{{"type", "image_url"},
                       {"image_url", {{"url", "data:image/png;base64," + base64_encode(image)}}}},
                      {{"type", "text"}, {"text", text}}})}}});
}

void expect_openai_error(const httplib::Result& r, int status) {
  ASSERT_TRUE(r) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  Json j = Json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_TRUE(j["error"]["type"].is_string());
  EXPECT_TRUE(j["error"]["code"].is_string());
}

// A plain-socket HTTP/1.1 POST that reads the response as it arrives (httplib 0.11's
// client proved unreliable for many concurrent streaming reads in one process).
// `on_body` gets the de-chunked body so far after every read; returning false closes
// the connection early. Returns the status code, or -1 on a transport failure.
int raw_post(int port, const std::string& path, const std::string& body,
             const std::function<bool(const std::string&)>& on_body, std::string* body_out) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  std::string raw, decoded;
  int status = -1;
  size_t body_start = std::string::npos, parsed = 0;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (body_start == std::string::npos) {
      size_t h = raw.find("\r\n\r\n");
      if (h == std::string::npos) continue;
      status = std::atoi(raw.c_str() + 9);
      body_start = parsed = h + 4;
    }
    // De-chunk whatever complete chunks arrived.
    for (;;) {
      size_t eol = raw.find("\r\n", parsed);
      if (eol == std::string::npos) break;
      size_t len = std::strtoul(raw.c_str() + parsed, nullptr, 16);
      if (raw.size() < eol + 2 + len + 2) break;
      decoded.append(raw, eol + 2, len);
      parsed = eol + 2 + len + 2;
    }
    if (on_body && !on_body(decoded)) break;
  }
  ::close(fd);
  if (body_out) *body_out = decoded;
  return status;
}

// Posts a streaming request and returns the SSE data payloads.
std::vector<std::string> stream_events(const TestServer& s, const Json& body) {
  std::string raw;
  int status = raw_post(s.port, "/v1/chat/completions", body.dump(), nullptr, &raw);
  EXPECT_EQ(status, 200) << raw;
  std::vector<std::string> events;
  size_t pos = 0;
  while ((pos = raw.find("data: ", pos)) != std::string::npos) {
    size_t end = raw.find("\n\n", pos);
    events.push_back(raw.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return events;
}

TEST(HttpServer, HealthModelsAndPage) {
  TestServer s;
  auto h = s.client().Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(Json::parse(h->body)["status"], "ready");
  auto m = s.client().Get("/v1/models");
  ASSERT_TRUE(m);
  EXPECT_EQ(Json::parse(m->body)["data"][0]["id"], "kantu-fake");
  auto page = s.client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->get_header_value("Content-Type").find("text/html"), std::string::npos);
  expect_openai_error(s.client().Get("/no/such/thing"), 404);
}

TEST(HttpServer, LoadingStateRefusesWork) {
  TestServer s({}, {}, /*ready=*/false);
  auto h = s.client().Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 503);
  EXPECT_EQ(Json::parse(h->body)["status"], "loading");
  auto r = s.chat({{"messages", user("hi")}});
  expect_openai_error(r, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
}

TEST(HttpServer, ChatCompletion) {
  TestServer s;
  auto r = s.chat({{"model", "x"}, {"messages", user("hello")}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "x");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "**Fake answer** to: hello");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  for (const char* k : {"image_ms", "prefill_ms", "decode_ms", "queue_ms", "decode_tok_s"}) {
    EXPECT_TRUE(j["timings"][k].is_number()) << k;
  }
}

TEST(HttpServer, MaxTokensAndStopStrings) {
  TestServer s;
  Json j = Json::parse(s.chat({{"messages", user("hello")}, {"max_tokens", 2}})->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 2);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "**Fake");  // fake tokens: 3 characters
  j = Json::parse(s.chat({{"messages", user("hello")}, {"stop", Json::array({"to:", "zz"})}})->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "**Fake answer** ");
}

TEST(HttpServer, StreamingMatchesNonStreaming) {
  TestServer s;
  Json body = {{"messages", user_with_image("describe", fake_png())}, {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  std::vector<std::string> events = stream_events(s, body);
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back(), "[DONE]");
  Json first = Json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  Json final_chunk, usage_chunk;
  for (size_t i = 1; i + 1 < events.size(); ++i) {
    Json e = Json::parse(events[i]);
    if (e["choices"].empty()) {
      usage_chunk = e;
      continue;
    }
    if (!e["choices"][0]["finish_reason"].is_null()) final_chunk = e;
    if (e["choices"][0]["delta"].contains("content")) text += e["choices"][0]["delta"]["content"];
  }
  EXPECT_EQ(final_chunk["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(final_chunk["timings"]["image_tokens"], 64);
  EXPECT_GT(usage_chunk["usage"]["completion_tokens"].get<int>(), 0);
  body["stream"] = false;
  Json whole = Json::parse(s.chat(body)->body);
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"]);
  EXPECT_NE(text.find("\"bbox_2d\": [100, 150, 600, 700]"), std::string::npos) << text;
}

TEST(HttpServer, ErrorStatuses) {
  ServerOptions so;
  so.max_body_bytes = 1 << 20;
  FakeEngine::Options eo;
  eo.context_length = 64;
  TestServer s(eo, so);
  auto post = [&](const std::string& body) {
    return s.client().Post("/v1/chat/completions", body, "application/json");
  };
  expect_openai_error(post("{broken"), 400);
  expect_openai_error(post(R"({"messages":"no"})"), 400);
  expect_openai_error(post(std::string(2 << 20, ' ')), 413);
  expect_openai_error(s.chat({{"messages", user_with_image("x", "GIF00notreally")}}), 415);
  // Context: 64 tokens; an image costs 64 by default, a long text too.
  expect_openai_error(s.chat({{"messages", user_with_image("x", fake_png())}}), 400);
  expect_openai_error(s.chat({{"messages", user("hi")}, {"max_tokens", 1000}}), 400);
  auto r = s.client().Get("/v1/chat/completions");
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400);
}

TEST(HttpServer, FailureMidGeneration) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 50;
  TestServer s(eo);
  // The fake fails at its third token, 100 ms after the first: by then the status of
  // a non-streaming answer is sent (see respond_when_done), so the failure is a 200
  // whose body is the error object.
  auto r = s.chat({{"messages", user("please __fail__")}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  Json j = Json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  ASSERT_TRUE(j.contains("error")) << r->body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("__fail__"), std::string::npos);
  EXPECT_FALSE(j.contains("choices"));
  std::vector<std::string> events = stream_events(s, {{"messages", user("__fail__")}, {"stream", true}});
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_TRUE(Json::parse(events[events.size() - 2]).contains("error"));
}

TEST(HttpServer, VisionCompletion) {
  TestServer s;
  httplib::MultipartFormDataItems items = {{"image", fake_png(), "a.png", "image/png"}};
  auto r = s.client().Post("/v1/vision/completion", items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  std::string result = Json::parse(r->body)["result"];
  EXPECT_EQ(result.rfind("**Fake answer** to: 请描述这张图片", 0), 0u) << result;

  items.push_back({"prompt", "What is this?", "", ""});
  r = s.client().Post("/v1/vision/completion", items);
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["result"].get<std::string>().rfind("**Fake answer** to: What is this?", 0), 0u);

  httplib::MultipartFormDataItems no_image = {{"prompt", "hi", "", ""}};
  r = s.client().Post("/v1/vision/completion", no_image);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body), Json({{"error", "Missing image file"}}));
  r = s.client().Post("/v1/vision/completion", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  httplib::MultipartFormDataItems bad = {{"image", "not an image", "a.txt", "text/plain"}};
  r = s.client().Post("/v1/vision/completion", bad);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_TRUE(Json::parse(r->body)["error"].is_string());
}

TEST(HttpServer, SixteenConcurrentClients) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 1;
  ServerOptions so;
  so.scheduler = {4, 16};
  TestServer s(eo, so);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      std::string text = "client " + std::to_string(i);
      if (i % 2) {
        std::string got;
        for (const std::string& e : stream_events(s, {{"messages", user(text)}, {"stream", true}})) {
          if (e == "[DONE]") break;
          Json j = Json::parse(e);
          if (!j["choices"].empty() && j["choices"][0]["delta"].contains("content")) {
            got += j["choices"][0]["delta"]["content"];
          }
        }
        if (got == "**Fake answer** to: " + text) ++ok;
      } else {
        auto r = s.chat({{"messages", user(text)}});
        if (r && r->status == 200 &&
            Json::parse(r->body)["choices"][0]["message"]["content"] == "**Fake answer** to: " + text) {
          ++ok;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 16);
}

// Polls `done` until it holds or `timeout_ms` passed; says whether it held. Tests wait
// for the state they assert on, never for time to pass: CI's 2 shared cores under
// AddressSanitizer make any fixed sleep too short now and then.
bool wait_until(const std::function<bool()>& done, double timeout_ms = 30000) {
  Timer t;
  while (!done()) {
    if (t.ms() > timeout_ms) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// Lets held engine steps go on scope exit, so a failed expectation cannot leave the
// server's engine thread parked (its shutdown would wait for it forever).
struct ReleaseSteps {
  FakeEngine& engine;
  ~ReleaseSteps() { engine.release_steps(); }
};

TEST(HttpServer, OverloadIs503WithRetryAfter) {
  ServerOptions so;
  so.scheduler = {1, 0};  // one sequence, no queue
  TestServer s({}, so);
  ReleaseSteps release{s.engine};
  // The first sequence is parked mid-generation, so it holds the only slot for as long
  // as the test needs (a token delay kept it busy only on a machine fast enough).
  s.engine.hold_steps();
  std::thread busy([&] {
    Json body = {{"messages", user("a fairly long question to keep it busy")}, {"stream", true}};
    raw_post(s.port, "/v1/chat/completions", body.dump(), nullptr, nullptr);
  });
  EXPECT_TRUE(wait_until([&] { return s.engine.parked_steps() == 1; }));
  auto r = s.chat({{"messages", user("hi")}});
  expect_openai_error(r, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  s.engine.release_steps();
  busy.join();
}

TEST(HttpServer, DisconnectCancelsTheSequence) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 20;
  TestServer s(eo);
  std::string long_text(600, 'x');  // 200 fake tokens: 4 s if not cancelled
  // Read the first chunks, then hang up.
  Json body = {{"messages", user(long_text)}, {"stream", true}};
  int status = raw_post(s.port, "/v1/chat/completions", body.dump(), [](const std::string& b) {
    return b.find("\"content\":\"xxx\"") == std::string::npos;
  }, nullptr);
  EXPECT_EQ(status, 200);
  Timer t;
  bool idle = false;
  while (t.ms() < 3000 && !idle) {
    std::string m = s.client().Get("/metrics")->body;
    idle = m.find("kantu_active_sequences 0") != std::string::npos &&
           m.find("kantu_queue_depth 0") != std::string::npos;
    if (!idle) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(idle) << "the sequence kept running after the client left";
  EXPECT_LT(t.ms(), 2500);
}

// Waits until /metrics shows no active or queued sequence; returns the last text.
std::string wait_idle(const TestServer& s, double timeout_ms) {
  Timer t;
  std::string m;
  while (t.ms() < timeout_ms) {
    m = s.client().Get("/metrics")->body;
    if (m.find("kantu_active_sequences 0") != std::string::npos &&
        m.find("kantu_queue_depth 0") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  return m;
}

TEST(HttpServer, DisconnectOfNonStreamingClientCancelsTheSequence) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 20;
  TestServer s(eo);
  std::string long_text(600, 'x');  // 200 fake tokens: 4 s if not cancelled
  Json body = {{"messages", user(long_text)}};
  // The status line arrives once the first token exists; then hang up without
  // reading the answer.
  Timer t;
  int status = raw_post(s.port, "/v1/chat/completions", body.dump(),
                        [](const std::string&) { return false; }, nullptr);
  EXPECT_EQ(status, 200);
  std::string m = wait_idle(s, 3000);
  EXPECT_LT(t.ms(), 2500) << "the sequence kept running after the client left";
  EXPECT_NE(m.find("kantu_cancelled_sequences_total 1"), std::string::npos) << m;
  // The server goes on serving, and a non-streaming answer still parses (leading
  // keep-alive spaces are JSON whitespace).
  auto r = s.chat({{"messages", user("after")}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["choices"][0]["message"]["content"], "**Fake answer** to: after");
}

TEST(HttpServer, SlowNonStreamingAnswerIsWholeAfterKeepAlives) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 10;
  TestServer s(eo);
  std::string text(150, 'y');  // ~60 tokens: 0.6 s, several keep-alive spaces
  auto r = s.chat({{"messages", user(text)}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body.front(), ' ') << "expected keep-alive spaces before the JSON";
  EXPECT_EQ(Json::parse(r->body)["choices"][0]["message"]["content"], "**Fake answer** to: " + text);
}

TEST(HttpServer, ConcurrentStreamsShareDecodeSteps) {
  FakeEngine::Options eo;
  eo.token_delay_ms = 10;
  ServerOptions so;
  so.scheduler = {4, 16};
  TestServer s(eo, so);
  std::string text(240, 'z');  // ~90 tokens each: about 1 s of decoding together
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  Timer t;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      std::string got;
      for (const std::string& e : stream_events(s, {{"messages", user(text)}, {"stream", true}})) {
        if (e == "[DONE]") break;
        Json j = Json::parse(e);
        if (!j["choices"].empty() && j["choices"][0]["delta"].contains("content")) {
          got += j["choices"][0]["delta"]["content"];
        }
      }
      if (got == "**Fake answer** to: " + text) ++ok;
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(s.engine.largest_batch(), 4u);
  // One delay per batched step, not per sequence: 4 x 90 tokens x 10 ms would be 3.6 s.
  EXPECT_LT(t.ms(), 2500);
  std::string m = s.client().Get("/metrics")->body;
  EXPECT_NE(m.find("kantu_decode_batches_total"), std::string::npos);
}

TEST(HttpServer, ImageCacheHit) {
  FakeEngine::Options eo;
  eo.image_encode_ms = 50;
  TestServer s(eo);
  auto timings = [&](const std::string& image, int64_t max_pixels) {
    Json body = {{"messages", user_with_image("q", image)}, {"max_tokens", 1}};
    if (max_pixels) body["max_pixels"] = max_pixels;
    return Json::parse(s.chat(body)->body)["timings"];
  };
  Json first = timings(fake_png('a'), 0);
  Json second = timings(fake_png('a'), 0);
  Json other_budget = timings(fake_png('a'), 300000);
  Json other_image = timings(fake_png('b'), 0);
  EXPECT_FALSE(first["cached"].get<bool>());
  EXPECT_GE(first["image_ms"].get<double>(), 45);
  EXPECT_TRUE(second["cached"].get<bool>());
  EXPECT_LT(second["image_ms"].get<double>(), 5);
  EXPECT_FALSE(other_budget["cached"].get<bool>());
  EXPECT_EQ(other_budget["image_tokens"], FakeEngine::image_tokens(300000));
  EXPECT_FALSE(other_image["cached"].get<bool>());
  std::string m = s.client().Get("/metrics")->body;
  EXPECT_NE(m.find("kantu_image_cache_total{result=\"hit\"} 1"), std::string::npos) << m;
  // Three embeddings held (image a at two budgets, image b); the fake's are 4096 bytes a token.
  const size_t bytes = (2 * FakeEngine::image_tokens(0) + FakeEngine::image_tokens(300000)) * size_t{4096};
  EXPECT_NE(m.find("kantu_image_cache_bytes " + std::to_string(bytes) + "\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kantu_image_cache_entries 3\n"), std::string::npos) << m;
}

TEST(HttpServer, MetricsCountRequestsAndTokens) {
  TestServer s;
  ASSERT_TRUE(s.chat({{"messages", user("hello")}}));
  ASSERT_TRUE(s.chat({{"messages", "bad"}}));
  // Requests are counted after their response went out: give the last one a moment
  // (the /metrics request's own line also says status="200"} 1, so match the endpoint).
  const std::string ok = "kantu_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1";
  const std::string bad = "kantu_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1";
  std::string m;
  Timer t;
  do {
    m = s.client().Get("/metrics")->body;
  } while ((m.find(ok) == std::string::npos || m.find(bad) == std::string::npos) && t.ms() < 5000);
  EXPECT_NE(m.find(ok), std::string::npos) << m;
  EXPECT_NE(m.find(bad), std::string::npos) << m;
  EXPECT_EQ(m.find("kantu_completion_tokens_total 0\n"), std::string::npos) << m;
  EXPECT_NE(m.find("kantu_stage_seconds_bucket{stage=\"prefill\",le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(m.find("# TYPE kantu_stage_seconds histogram"), std::string::npos);
}

TEST(HttpServer, DrainFinishesStreamsAndRefusesNewWork) {
  TestServer s;
  ReleaseSteps release{s.engine};
  // The stream is parked mid-generation until the test lets it go: it is still running
  // when the drain starts and when the late request comes, however slow the machine.
  s.engine.hold_steps();
  std::atomic<bool> started{false};
  std::string text;
  std::thread streamer([&] {
    Json body = {{"messages", user("drain me please")}, {"stream", true}};
    raw_post(s.port, "/v1/chat/completions", body.dump(), [&](const std::string&) {
      started = true;
      return true;
    }, &text);
  });
  EXPECT_TRUE(wait_until([&] { return started && s.engine.parked_steps() == 1; }));
  std::atomic<bool> drained{false};
  std::thread drainer([&] {
    s.http.drain(60);
    drained = true;
  });
  EXPECT_TRUE(wait_until([&] { return s.http.draining(); }));
  expect_openai_error(s.chat({{"messages", user("late")}}), 503);
  // A load balancer's or Kubernetes' readiness probe must see the drain and stop sending.
  // (No ASSERT here: returning early would leave the threads above unjoined.)
  auto h = s.client().Get("/health");
  EXPECT_TRUE(h);
  if (h) {
    EXPECT_EQ(h->status, 503);
    EXPECT_EQ(Json::parse(h->body)["status"], "draining");
  }
  EXPECT_FALSE(drained) << "drain returned while a stream was still generating";
  s.engine.release_steps();
  drainer.join();
  // Stop at once, as `kantu serve` does after the drain: it cuts whatever is still open.
  s.http.stop();
  streamer.join();
  EXPECT_NE(text.find("data: [DONE]"), std::string::npos) << text;
  EXPECT_NE(text.find("\"finish_reason\":\"stop\""), std::string::npos) << text;
}

}  // namespace
}  // namespace kantu::server

namespace kantu::server {
namespace {

TEST(RemoteImages, RefusesLocalAndPrivateAddressesAndBadUrls) {
  for (const char* url : {"http://127.0.0.1/a.png", "http://localhost:8080/a.png", "http://10.1.2.3/a.png",
                          "http://192.168.0.1/a.png", "http://169.254.169.254/latest", "http://[::1]/a.png",
                          "http://user@example.com/a.png", "ftp://example.com/a.png", "http:///a.png"}) {
    try {
      fetch_remote_image(url, 1 << 20, 2);
      ADD_FAILURE() << "fetched " << url;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << url << ": " << e.what();
    }
  }
}

TEST(RemoteImages, DisabledByDefaultEnabledByOption) {
  TestServer off;
  Json body = {{"messages", Json::array({{{"role", "user"},
                                          {"content", Json::array({{{"type", "image_url"},
                                                                    {"image_url", {{"url", "http://127.0.0.1:1/a.png"}}}}})}}})}};
  auto r = off.chat(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("allow-remote-images"), std::string::npos) << r->body;
  ServerOptions so;
  so.allow_remote_images = true;
  TestServer on({}, so);
  r = on.chat(body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("private or local"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace kantu::server
