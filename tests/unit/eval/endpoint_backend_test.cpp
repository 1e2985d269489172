// The endpoint backend against servers that fail the way real ones do (support/
// fault_server.h): every retryable fault is retried and the caption arrives, a
// Retry-After is waited out, a dead endpoint is taken out while a live one carries the
// load, answers that retrying cannot fix end the request at once, and a request gives
// up after its attempts.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/json.h"
#include "eval/endpoint_backend.h"
#include "support/fault_server.h"
#include "support/testdata.h"

namespace kantu::eval {
namespace {

using test::FaultServer;
using Fault = FaultServer::Fault;

FaultServer::Reply caption_reply(const std::string& text) {
  Json reply = {{"choices", {{{"message", {{"role", "assistant"}, {"content", text}}}}}},
                {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 3}}}};
  return {Fault::kNone, 200, reply.dump(), {}, 0};
}

// Fast retries for tests; endpoints are not taken out unless a test wants it.
EndpointOptions fast_options(std::vector<std::string> urls) {
  EndpointOptions o;
  o.urls = std::move(urls);
  o.model = "m";
  o.timeout_s = 5;
  o.max_attempts = 4;
  o.backoff_s = 0.01;
  o.max_backoff_s = 0.05;
  o.pool.down_after = 100;
  return o;
}

std::string image_file() {
  static const std::string path = [] {
    std::string dir = test::make_temp_dir("endpoint_backend");
    test::write_text_file(dir + "/a.png", "not really a png");
    return dir + "/a.png";
  }();
  return path;
}

CaptionRequest request() { return {image_file(), "Describe.", 8}; }

TEST(EndpointBackend, EveryRetryableFaultIsRetriedUntilTheCaptionArrives) {
  const std::vector<FaultServer::Reply> faults = {
      {Fault::kReset, 200, "", {}, 0},
      {Fault::kClose, 200, "", {}, 0},
      {Fault::kTruncate, 200, caption_reply("cut").body, {}, 0},
      {Fault::kHang, 200, "", {}, 0},
      {Fault::kNone, 429, R"({"error":"slow down"})", {}, 0},
      {Fault::kNone, 502, "bad gateway", {}, 0},
      {Fault::kNone, 503, R"({"error":"busy"})", {{"Retry-After", "0"}}, 0},
      {Fault::kNone, 504, "gateway timeout", {}, 0},
      {Fault::kNone, 200, R"(   {"error":{"message":"failed while decoding","code":500}})", {}, 0},
  };
  for (size_t f = 0; f < faults.size(); ++f) {
    std::atomic<int> n{0};
    FaultServer server([&](const FaultServer::Request& req) {
      EXPECT_EQ(req.path, "/v1/chat/completions");
      return n++ == 0 ? faults[f] : caption_reply("a cat");
    });
    EndpointOptions o = fast_options({server.url()});
    o.timeout_s = 0.5;  // for the hang
    EndpointBackend backend(o);
    Caption c = backend.caption(request());
    EXPECT_EQ(c.text, "a cat") << "fault " << f;
    EXPECT_EQ(c.timings.generated_tokens, 3);
    EXPECT_EQ(server.requests(), 2) << "fault " << f;
    EXPECT_EQ(backend.retries(), 1);
  }
}

TEST(EndpointBackend, WaitsOutRetryAfter) {
  std::atomic<int> n{0};
  std::chrono::steady_clock::time_point first, second;
  FaultServer server([&](const FaultServer::Request&) {
    if (n++ == 0) {
      first = std::chrono::steady_clock::now();
      return FaultServer::Reply{Fault::kNone, 503, "{}", {{"Retry-After", "1"}}, 0};
    }
    second = std::chrono::steady_clock::now();
    return caption_reply("later");
  });
  EndpointBackend backend(fast_options({server.url()}));
  EXPECT_EQ(backend.caption(request()).text, "later");
  EXPECT_GE(std::chrono::duration<double>(second - first).count(), 0.95);
}

TEST(EndpointBackend, RetriesOnTheOtherEndpointAndTakesADeadOneOut) {
  FaultServer good([](const FaultServer::Request&) { return caption_reply("ok"); });
  const std::string dead = "http://127.0.0.1:" + std::to_string(test::unused_port());
  EndpointOptions o = fast_options({dead, good.url()});
  o.pool.down_after = 2;
  o.pool.down_seconds = 60;
  EndpointBackend backend(o);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(backend.caption(request()).text, "ok");
  auto stats = backend.endpoint_stats();
  EXPECT_EQ(stats[0].name, dead);
  EXPECT_EQ(stats[0].failed, 2);  // then out for a minute
  EXPECT_EQ(stats[0].times_down, 1);
  EXPECT_EQ(stats[1].succeeded, 12);
  EXPECT_EQ(good.requests(), 12);
}

TEST(EndpointBackend, AnswersThatRetryingCannotFixFailAtOnce) {
  struct Case {
    int status;
    std::string body;
    ErrorKind kind;
    std::string says;
  };
  const std::vector<Case> cases = {
      {400, R"({"error":{"message":"bad image"}})", ErrorKind::kUnsupported, "HTTP 400"},
      {500, R"({"error":"bug"})", ErrorKind::kUnsupported, "HTTP 500"},
      {200, R"({"choices": []})", ErrorKind::kCorrupt, "choices[0].message.content"},
      {200, "not json", ErrorKind::kCorrupt, "choices[0].message.content"},
  };
  for (const Case& c : cases) {
    FaultServer server([&](const FaultServer::Request&) {
      return FaultServer::Reply{Fault::kNone, c.status, c.body, {}, 0};
    });
    EndpointBackend backend(fast_options({server.url()}));
    try {
      backend.caption(request());
      ADD_FAILURE() << "no error for " << c.status << " " << c.body;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), c.kind) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(server.url()), std::string::npos) << e.what();
    }
    EXPECT_EQ(server.requests(), 1);
  }
}

TEST(EndpointBackend, GivesUpAfterItsAttempts) {
  FaultServer server([](const FaultServer::Request&) {
    return FaultServer::Reply{Fault::kNone, 503, R"({"error":"busy"})", {}, 0};
  });
  EndpointBackend backend(fast_options({server.url()}));
  try {
    backend.caption(request());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOverloaded);
    EXPECT_NE(std::string(e.what()).find("after 4 attempts"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.requests(), 4);
}

TEST(EndpointBackend, SpreadsConcurrentRequestsOverTheEndpoints) {
  // Each server holds a request 100 ms; with 4 threads over 2 endpoints, least
  // outstanding keeps two in flight on each.
  std::mutex mu;
  int in_flight[2] = {0, 0}, most[2] = {0, 0};
  auto handler = [&](int s) {
    return [&, s](const FaultServer::Request&) {
      {
        std::lock_guard lock(mu);
        most[s] = std::max(most[s], ++in_flight[s]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::lock_guard lock(mu);
      --in_flight[s];
      return caption_reply("x");
    };
  };
  FaultServer a(handler(0)), b(handler(1));
  EndpointBackend backend(fast_options({a.url(), b.url()}));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) EXPECT_EQ(backend.caption(request()).text, "x");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.requests() + b.requests(), 20);
  EXPECT_GE(a.requests(), 8);
  EXPECT_GE(b.requests(), 8);
  EXPECT_LE(most[0], 3);
  EXPECT_LE(most[1], 3);
}

TEST(EndpointBackend, RefusesBadOptions) {
  EXPECT_THROW(EndpointBackend(fast_options({})), Error);
  EXPECT_THROW(EndpointBackend(fast_options({"https://x:1"})), Error);
  EXPECT_THROW(EndpointBackend(fast_options({"ftp://x:1"})), Error);
  EndpointOptions o = fast_options({"http://127.0.0.1:1"});
  o.model = "";
  EXPECT_THROW(EndpointBackend{o}, Error);
}

TEST(EndpointBackend, AnEndpointThatDoesNotAnswerIsFoundBeforeTheRun) {
  FaultServer good([](const FaultServer::Request&) { return caption_reply("ok"); });
  const std::string dead = "http://127.0.0.1:" + std::to_string(test::unused_port());
  EndpointBackend some(fast_options({dead, good.url()}));
  std::vector<std::string> warnings = some.check_reachable();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].rfind(dead + ": request failed", 0), 0u) << warnings[0];
  EXPECT_EQ(some.caption(request()).text, "ok");
  EXPECT_EQ(some.endpoint_stats()[0].requests, 0);  // resting

  EndpointBackend none(fast_options({dead}));
  try {
    none.check_reachable();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no endpoint answers: " + dead), std::string::npos) << e.what();
  }
}

TEST(RetryAfter, ParsesSecondsAndDates) {
  EXPECT_EQ(parse_retry_after("5", 0), 5.0);
  EXPECT_EQ(parse_retry_after(" 0 ", 0), 0.0);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), 7.0);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800), 0.0);
  EXPECT_FALSE(parse_retry_after("", 0));
  EXPECT_FALSE(parse_retry_after("soon", 0));
  EXPECT_FALSE(parse_retry_after("-3", 0));
  EXPECT_FALSE(parse_retry_after("1.5", 0));
}

}  // namespace
}  // namespace kantu::eval
