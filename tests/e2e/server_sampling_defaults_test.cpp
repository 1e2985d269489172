// `kantu serve` samples with the model's generation_config.json where a request leaves a
// field out, as `kantu run` does; a request's own value wins. The tiny Qwen2.5-VL's config
// samples with top_k 1 and repetition_penalty 1.05 (temperature 0.1, top_p 0.001): its
// default answer is the greedy one under that penalty, whatever the seed. A request
// without max_tokens stops at the config's max_new_tokens, as run does.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <thread>

#include "core/json.h"
#include "server/real_engine.h"
#include "support/served_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

class DefaultsServer {
 public:
  // model_dir: a folder (test::testdata("models/...") or a copy).
  explicit DefaultsServer(const std::string& model_dir) {
    RealEngineOptions eo;
    eo.threads = 2;
    eo.context_length = kContext;
    ServerOptions so;
    so.scheduler = {2, 16};
    served_ = std::make_unique<test::ServedEngine>(model_dir, eo, so);
  }
  static constexpr int64_t kContext = 256;

  // The reply to one question with `fields` added to the request (max_tokens 24 unless a
  // field says otherwise; a null max_tokens leaves the field out). Null on a failure.
  Json reply(const Json& fields) const {
    Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "Tell me a long story about a red fox."}}})},
                 {"max_tokens", 24}};
    body.update(fields);
    if (body["max_tokens"].is_null()) body.erase("max_tokens");
    httplib::Client c("127.0.0.1", served_->port());
    c.set_read_timeout(120, 0);
    auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : std::string("no response"));
    if (!r || r->status != 200) return nullptr;
    return Json::parse(r->body);
  }
  std::string answer(const Json& fields) const {
    Json r = reply(fields);
    return r.is_null() ? std::string("<failed>") : r["choices"][0]["message"]["content"].get<std::string>();
  }

 private:
  std::unique_ptr<test::ServedEngine> served_;
};

TEST(ServerSamplingDefaults, ARequestWithoutSamplingFieldsUsesTheModelsGenerationConfig) {
  const DefaultsServer server(test::testdata("models/qwen25vl-tiny-a"));
  const std::string greedy_penalised = server.answer({{"temperature", 0}, {"repetition_penalty", 1.05}});
  // The penalty changes this answer, so the default answer below shows it was applied.
  ASSERT_NE(greedy_penalised, server.answer({{"temperature", 0}, {"repetition_penalty", 1.0}}));
  for (int seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    EXPECT_EQ(server.answer({{"seed", seed}}), greedy_penalised);
    EXPECT_EQ(server.answer({{"seed", seed}, {"temperature", nullptr}}), greedy_penalised);
  }
  // A request's own values win over the model's: unrestricted sampling at temperature 1
  // leaves the greedy answer with some seed.
  int differ = 0;
  for (int seed : {1, 2, 3}) {
    differ += server.answer({{"seed", seed}, {"temperature", 1.0}, {"top_k", 0}, {"top_p", 1.0}}) !=
              greedy_penalised;
  }
  EXPECT_GT(differ, 0);
  // Only the given field changes: the model's top_k 1 keeps a hot temperature greedy.
  EXPECT_EQ(server.answer({{"seed", 1}, {"temperature", 1.5}}), greedy_penalised);
}

// A copy of the tiny Qwen2.5-VL whose generation_config.json says max_new_tokens.
std::string tiny_with_max_new_tokens(int64_t max_new_tokens, const std::string& hint) {
  const std::string dir = test::copy_tiny_model("qwen25vl-tiny-a", hint);
  const std::string path = dir + "/generation_config.json";
  std::ifstream in(path);
  Json config = Json::parse(in);
  config["max_new_tokens"] = max_new_tokens;
  test::write_text_file(path, config.dump(2));
  return dir;
}

int completion_tokens(const Json& reply) {
  return reply.is_null() ? -1 : reply["usage"]["completion_tokens"].get<int>();
}

TEST(ServerSamplingDefaults, ARequestWithoutMaxTokensStopsAtTheModelsMaxNewTokens) {
  const DefaultsServer server(tiny_with_max_new_tokens(5, "max_new_tokens_5"));
  Json r = server.reply({{"max_tokens", nullptr}});
  EXPECT_EQ(completion_tokens(r), 5) << r;
  if (!r.is_null()) {
    EXPECT_EQ(r["choices"][0]["finish_reason"], "length") << r;
  }
  // The request's own max_tokens wins over the model's.
  EXPECT_EQ(completion_tokens(server.reply({{"max_tokens", 9}})), 9);
}

TEST(ServerSamplingDefaults, TheModelsMaxNewTokensStaysWithinTheContext) {
  const DefaultsServer server(tiny_with_max_new_tokens(100000, "max_new_tokens_100000"));
  Json r = server.reply({{"max_tokens", nullptr}});
  ASSERT_FALSE(r.is_null());
  EXPECT_LE(r["usage"]["prompt_tokens"].get<int>() + completion_tokens(r), DefaultsServer::kContext) << r;
}

}  // namespace
}  // namespace kantu::server
