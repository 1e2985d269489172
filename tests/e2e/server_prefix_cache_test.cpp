// `kantu serve`'s prefix KV cache and chunked prefill with the real engine on the tiny
// Qwen3-VL checkpoint, in-process: a conversation's next turn reports the reused prompt
// tokens (usage.prompt_tokens_details.cached_tokens, streaming and not, and timings) and
// answers exactly as a server without the cache; /metrics counts hits, misses and bytes; an
// image request that arrives while streams decode is prefilled in chunks between their
// steps and changes no token of theirs.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "core/json.h"
#include "server/real_engine.h"
#include "support/served_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

std::string prefix_test_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One in-process server over the tiny model.
class PrefixServer {
 public:
  explicit PrefixServer(std::optional<size_t> kv_cache_bytes, double chunk_steps = 2.0) {
    RealEngineOptions eo;
    eo.threads = 2;
    eo.context_length = 512;
    eo.kv_cache_bytes = kv_cache_bytes;
    eo.prefill_chunk_steps = chunk_steps;
    ServerOptions so;
    so.scheduler = {4, 16};
    served_ = std::make_unique<test::ServedEngine>(test::testdata("models/qwen3vl-tiny-a"), eo, so);
  }
  Json chat(const Json& body) const {
    httplib::Client c("127.0.0.1", served_->port());
    c.set_read_timeout(120, 0);
    auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
    if (!r || r->status != 200) return Json{{"failed", r ? r->body : "no response"}};
    return Json::parse(r->body);
  }
  // A streamed request: its text, and {"usage", "timings"} as its events carried them.
  std::pair<std::string, Json> stream(Json body) const {
    body["stream"] = true;
    body["stream_options"] = {{"include_usage", true}};
    std::string raw;
    httplib::Client c("127.0.0.1", served_->port());
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
    if (!r || r->status != 200) return {"<failed>", Json()};
    std::string text;
    Json usage;
    for (size_t pos = 0; (pos = raw.find("data: ", pos)) != std::string::npos;) {
      const size_t end = raw.find("\n\n", pos);
      const std::string payload = raw.substr(pos + 6, end - pos - 6);
      pos = end;
      if (payload == "[DONE]") break;
      const Json e = Json::parse(payload);
      if (e.contains("usage") && !e["usage"].is_null()) usage["usage"] = e["usage"];
      if (e.contains("timings")) usage["timings"] = e["timings"];
      if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
        text += e["choices"][0]["delta"]["content"];
    }
    return {text, usage};
  }
  std::string metrics() const {
    httplib::Client c("127.0.0.1", served_->port());
    return c.Get("/metrics")->body;
  }

 private:
  std::unique_ptr<test::ServedEngine> served_;
};

int64_t prefix_metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
}

// timings.prefill_tok_s is the `prefilled` tokens over timings.prefill_ms.
void expect_prefill_speed_of_uncached(const Json& timings, int prefilled) {
  const double ms = timings["prefill_ms"].get<double>();
  ASSERT_GT(ms, 0) << timings.dump();
  const double want = prefilled * 1000.0 / ms;
  EXPECT_NEAR(timings["prefill_tok_s"].get<double>(), want, want * 1e-9) << timings.dump();
}

Json prefix_image_turn(const std::string& png, const std::string& question) {
  return {{"role", "user"},
          {"content", Json::array({{{"type", "image_url"},
                                    {"image_url", {{"url", "data:image/png;base64," + base64_encode(png)}}}},
                                   {{"type", "text"}, {"text", question}}})}};
}

TEST(ServerPrefixCache, TheNextTurnReusesThePreviousAndAnswersAsWithout) {
  const PrefixServer warm(std::nullopt), cold(size_t{0});
  const std::string png = prefix_test_file(test::testdata("images/img_256x256.png"));
  Json turn1 = {{"messages", Json::array({prefix_image_turn(png, "Describe this image.")})},
                {"max_tokens", 12}, {"temperature", 0}};
  const Json w1 = warm.chat(turn1), c1 = cold.chat(turn1);
  ASSERT_FALSE(w1.contains("failed")) << w1.dump();
  EXPECT_EQ(w1["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  const std::string answer = w1["choices"][0]["message"]["content"];
  EXPECT_EQ(answer, c1["choices"][0]["message"]["content"]);

  Json turn2 = turn1;
  turn2["messages"].push_back({{"role", "assistant"}, {"content", answer}});
  turn2["messages"].push_back({{"role", "user"}, {"content", "Are you sure? Answer briefly."}});
  const Json w2 = warm.chat(turn2), c2 = cold.chat(turn2);
  const int prompt1 = w1["usage"]["prompt_tokens"];
  const int cached = w2["usage"]["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GE(cached, prompt1);  // the first turn, its image and (part of) its answer
  EXPECT_LT(cached, w2["usage"]["prompt_tokens"].get<int>());
  EXPECT_EQ(w2["timings"]["cached_tokens"], cached);
  // Its prefill speed counts the tokens it prefilled, not the ones the cache gave.
  expect_prefill_speed_of_uncached(w2["timings"], w2["usage"]["prompt_tokens"].get<int>() - cached);
  EXPECT_EQ(c2["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(w2["choices"][0]["message"]["content"], c2["choices"][0]["message"]["content"]);

  // Streamed, the same turn again: all of the prompt but its last token, same text.
  const auto [text, usage] = warm.stream(turn2);
  EXPECT_EQ(text, c2["choices"][0]["message"]["content"]);
  ASSERT_TRUE(usage.contains("usage") && usage.contains("timings")) << usage.dump();
  EXPECT_EQ(usage["usage"]["prompt_tokens_details"]["cached_tokens"],
            usage["usage"]["prompt_tokens"].get<int>() - 1);
  EXPECT_EQ(usage["timings"]["cached_tokens"], usage["usage"]["prompt_tokens"].get<int>() - 1);
  expect_prefill_speed_of_uncached(usage["timings"], 1);

  const std::string m = warm.metrics();
  EXPECT_EQ(prefix_metric(m, "kantu_prefix_cache_lookups_total{result=\"hit\"}"), 2);
  EXPECT_GE(prefix_metric(m, "kantu_prefix_cache_lookups_total{result=\"miss\"}"), 1);
  EXPECT_GT(prefix_metric(m, "kantu_prefix_cache_bytes"), 0);
  EXPECT_LE(prefix_metric(m, "kantu_prefix_cache_bytes"), prefix_metric(m, "kantu_prefix_cache_budget_bytes"));
  EXPECT_EQ(prefix_metric(cold.metrics(), "kantu_prefix_cache_bytes"), 0);
}

TEST(ServerPrefixCache, AnImageArrivingWhileStreamsDecodeIsChunkedAndChangesNoToken) {
  const PrefixServer chunked(size_t{0}, 2.0);
  const std::string png = prefix_test_file(test::testdata("images/img_288x352.png"));
  auto text_body = [](int i) {
    return Json{{"messages", Json::array({{{"role", "user"}, {"content", "Tell me about number " + std::to_string(i)}}})},
                {"max_tokens", 64}, {"temperature", 0}};
  };
  const Json image_body = {{"messages", Json::array({prefix_image_turn(png, "Describe this image in detail.")})},
                           {"max_tokens", 8}, {"temperature", 0}};
  std::vector<std::string> alone;
  for (int i = 0; i < 3; ++i) alone.push_back(chunked.stream(text_body(i)).first);
  const std::string image_alone = chunked.stream(image_body).first;

  std::vector<std::string> together(3);
  std::vector<std::thread> streams;
  for (int i = 0; i < 3; ++i) streams.emplace_back([&, i] { together[i] = chunked.stream(text_body(i)).first; });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const auto [image_text, usage] = chunked.stream(image_body);
  for (auto& t : streams) t.join();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(together[i], alone[i]) << "stream " << i;
  EXPECT_EQ(image_text, image_alone);
}

}  // namespace
}  // namespace kantu::server
