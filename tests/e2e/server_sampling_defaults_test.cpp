// `kantu serve` samples with the model's generation_config.json where a request leaves a
// field out, as `kantu run` does; a request's own value wins. The tiny Qwen2.5-VL's config
// samples with top_k 1 and repetition_penalty 1.05 (temperature 0.1, top_p 0.001): its
// default answer is the greedy one under that penalty, whatever the seed.
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "core/json.h"
#include "server/real_engine.h"
#include "support/served_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

class DefaultsServer {
 public:
  explicit DefaultsServer(const std::string& model) {
    RealEngineOptions eo;
    eo.threads = 2;
    eo.context_length = 256;
    ServerOptions so;
    so.scheduler = {2, 16};
    served_ = std::make_unique<test::ServedEngine>(test::testdata("models/" + model), eo, so);
  }
  // The answer to one question with `fields` added to the request.
  std::string answer(const Json& fields) const {
    Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "Tell me a long story about a red fox."}}})},
                 {"max_tokens", 24}};
    body.update(fields);
    httplib::Client c("127.0.0.1", served_->port());
    c.set_read_timeout(120, 0);
    auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
    if (!r || r->status != 200) return "<failed: " + (r ? r->body : std::string("no response")) + ">";
    return Json::parse(r->body)["choices"][0]["message"]["content"];
  }

 private:
  std::unique_ptr<test::ServedEngine> served_;
};

TEST(ServerSamplingDefaults, ARequestWithoutSamplingFieldsUsesTheModelsGenerationConfig) {
  const DefaultsServer server("qwen25vl-tiny-a");
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

}  // namespace
}  // namespace kantu::server
