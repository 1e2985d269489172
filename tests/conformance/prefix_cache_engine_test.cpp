// runtime::Engine with a prefix cache (the path of `kantu chat` and of `kantu run`'s
// callers that turn it on) on the tiny models of every family: each turn of a
// conversation about a picture gives the same greedy tokens as a cold engine, reusing the
// turns before it; the golden's own multi-turn prompt gives the golden's tokens; models and
// weight types that share one cache never reuse each other's keys and values; a cache
// smaller than the conversation stays within its bound and stays exact.
#include <gtest/gtest.h>

#include <ostream>

#include "conformance/golden.h"
#include "image/decode.h"
#include "runtime/generate.h"
#include "text/chat_messages.h"

namespace kantu {
namespace {

using runtime::PrefixCache;

struct Family {
  std::string folder;  // under models/
  std::string golden;  // for golden_path
  std::string name;    // the golden case
};

// For gtest (ctest's listing, failures): "<folder> <name>", not the raw bytes.
void PrintTo(const Family& f, std::ostream* os) { *os << f.folder << ' ' << f.name; }

std::string family_name(const ::testing::TestParamInfo<Family>& info) {
  return test::param_name({info.param.folder});
}

struct Turn {
  runtime::GenerationResult result;
  int64_t prompt_tokens = 0;
};

class PrefixCacheEngine : public ::testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    const Family& f = GetParam();
    dir_ = test::testdata("models/" + f.folder);
    meta_ = read_json_file(test::golden_path(f.golden, "full_model/" + f.name + ".json"));
    golden_messages_ = text::parse_messages(text::OrderedJson::parse(meta_.at("messages").dump()), "golden");
    for (const auto& entry : meta_.at("images")) {
      images_.push_back(decode_image_file(test::test_image_path(entry.get<std::string>())));
    }
    // Turn 1: everything up to the first user message (the picture and its question).
    for (const text::Message& m : golden_messages_) {
      turn1_.push_back(m);
      if (m.role == "user") break;
    }
  }

  std::unique_ptr<runtime::Engine> load(std::shared_ptr<PrefixCache> cache,
                                        const models::WeightOptions& weights = {},
                                        const std::string& dir = "") {
    auto e = runtime::Engine::load(dir.empty() ? dir_ : dir, 2, weights);
    e->use_prefix_cache(std::move(cache));
    return e;
  }

  static size_t image_parts(const std::vector<text::Message>& messages) {
    size_t n = 0;
    for (const auto& m : messages)
      for (const auto& p : m.parts) n += p.kind == text::ContentPart::Kind::kImage;
    return n;
  }

  Turn ask(runtime::Engine& engine, const std::vector<text::Message>& messages, int tokens = 8) {
    runtime::GenerateRequest req;
    req.messages = messages;
    req.images.assign(images_.begin(), images_.begin() + static_cast<ptrdiff_t>(image_parts(messages)));
    req.options.max_new_tokens = tokens;
    req.options.sampling.temperature = 0;
    req.options.stop_ids = engine.defaults().stop_ids;
    runtime::GenerateOutput out = engine.generate(req, nullptr);
    return {std::move(out.result), static_cast<int64_t>(out.prompt_ids.size())};
  }

  // Turn 1, its answer, and a follow-up question.
  std::vector<text::Message> follow_up(const std::string& answer) const {
    std::vector<text::Message> m = turn1_;
    text::Message a;
    a.role = "assistant";
    a.content_is_string = true;
    a.content_text = answer;
    m.push_back(a);
    text::Message q;
    q.role = "user";
    q.content_is_string = true;
    q.content_text = "Are you sure? Answer briefly.";
    m.push_back(q);
    return m;
  }

  std::string dir_;
  Json meta_;
  std::vector<text::Message> golden_messages_, turn1_;
  std::vector<RgbImage> images_;
};

TEST_P(PrefixCacheEngine, EachTurnReusesTheOnesBeforeAndAnswersAsACold) {
  auto cold = load(nullptr);
  auto cache = std::make_shared<PrefixCache>(size_t{256} << 20);
  auto warm = load(cache);
  const Turn cold1 = ask(*cold, turn1_);
  const Turn warm1 = ask(*warm, turn1_);
  EXPECT_EQ(warm1.result.timings.cached_tokens, 0);
  EXPECT_EQ(warm1.result.ids, cold1.result.ids);

  const auto turn2 = follow_up(warm1.result.text);
  const Turn warm2 = ask(*warm, turn2);
  EXPECT_GE(warm2.result.timings.cached_tokens, warm1.prompt_tokens);  // turn 1 and its answer
  EXPECT_LT(warm2.result.timings.cached_tokens, warm2.prompt_tokens);
  // Its prefill speed counts the tokens it ran, not the ones the cache gave.
  const runtime::Timings& t2 = warm2.result.timings;
  ASSERT_GT(t2.prefill_ms, 0);
  EXPECT_DOUBLE_EQ(t2.prefill_tok_s,
                   static_cast<double>(warm2.prompt_tokens - t2.cached_tokens) * 1000.0 / t2.prefill_ms);
  EXPECT_EQ(warm2.result.ids, ask(*cold, turn2).result.ids);
  EXPECT_EQ(warm2.result.text, ask(*cold, turn2).result.text);

  // Turn 1 again: all of it but the last token.
  const Turn again = ask(*warm, turn1_);
  EXPECT_EQ(again.result.timings.cached_tokens, again.prompt_tokens - 1);
  EXPECT_EQ(again.result.ids, cold1.result.ids);
  EXPECT_GE(cache->stats().hits, 2);
}

TEST_P(PrefixCacheEngine, TheGoldensConversationGivesTheGoldensTokensWarm) {
  const auto want = meta_.at("generated_ids").get<std::vector<int64_t>>();
  const auto margins = meta_.at("greedy_top1_minus_top2").get<std::vector<double>>();
  auto warm = load(std::make_shared<PrefixCache>(size_t{256} << 20));
  ask(*warm, turn1_);
  const Turn t = ask(*warm, golden_messages_, static_cast<int>(want.size()));
  EXPECT_GT(t.result.timings.cached_tokens, 0);
  for (size_t k = 0; k < t.result.ids.size() && k < want.size(); ++k) {
    if (t.result.ids[k] != want[k]) {
      EXPECT_LT(margins[k], 1e-4) << "greedy token " << k;
      break;
    }
  }
}

TEST_P(PrefixCacheEngine, ACacheSmallerThanTheConversationStaysWithinItsBoundAndExact) {
  auto cold = load(nullptr);
  auto probe = load(nullptr);
  auto cache = std::make_shared<PrefixCache>(2 * probe->model().kv_block_bytes());
  probe.reset();
  auto warm = load(cache);
  for (int round = 0; round < 2; ++round) {
    const Turn w1 = ask(*warm, turn1_);
    EXPECT_EQ(w1.result.ids, ask(*cold, turn1_).result.ids);
    const auto turn2 = follow_up(w1.result.text);
    EXPECT_EQ(ask(*warm, turn2).result.ids, ask(*cold, turn2).result.ids);
    EXPECT_LE(cache->stats().bytes, cache->budget());
  }
}

TEST_P(PrefixCacheEngine, WeightTypesSharingACacheNeverMix) {
  auto cache = std::make_shared<PrefixCache>(size_t{256} << 20);
  auto as_stored = load(cache);
  models::WeightOptions q8;
  q8.text = DType::kQ8_0;
  q8.cache_dir = test::make_temp_dir("prefix_cache_q8");
  auto quantized = load(cache, q8);
  const Turn a = ask(*as_stored, turn1_);
  const Turn q = ask(*quantized, turn1_);
  EXPECT_EQ(q.result.timings.cached_tokens, 0);
  EXPECT_EQ(ask(*as_stored, turn1_).result.timings.cached_tokens, a.prompt_tokens - 1);
  EXPECT_EQ(ask(*quantized, turn1_).result.timings.cached_tokens, q.prompt_tokens - 1);
}

INSTANTIATE_TEST_SUITE_P(
    Families, PrefixCacheEngine,
    ::testing::Values(Family{"qwen3vl-tiny-a", "tiny-a", "image_multiturn"},
                      Family{"qwen25vl-tiny-a", "qwen25vl/tiny-a", "image_multiturn"},
                      Family{"qwen2vl-tiny-a", "qwen2vl/tiny-a", "one_image"},
                      Family{"llava15-tiny-a", "llava/15-tiny-a", "one_image"},
                      Family{"llava-next-tiny-a", "llava/next-tiny-a", "one_image"}),
    family_name);

TEST(PrefixCacheModels, TwoModelsSharingACacheNeverMix) {
  auto cache = std::make_shared<PrefixCache>(size_t{256} << 20);
  auto a = runtime::Engine::load(test::testdata("models/qwen3vl-tiny-a"), 2);
  auto c = runtime::Engine::load(test::testdata("models/qwen3vl-tiny-c"), 2);
  a->use_prefix_cache(cache);
  c->use_prefix_cache(cache);
  runtime::GenerateRequest req;
  text::Message m;
  m.role = "user";
  m.content_is_string = true;
  m.content_text = "Describe a red and green checkerboard in many words, please.";
  req.messages = {m};
  req.options.max_new_tokens = 4;
  req.options.sampling.temperature = 0;
  const auto first = a->generate(req, nullptr);
  EXPECT_EQ(c->generate(req, nullptr).result.timings.cached_tokens, 0);
  EXPECT_GT(a->generate(req, nullptr).result.timings.cached_tokens, 0);
  EXPECT_EQ(first.result.timings.cached_tokens, 0);
}

}  // namespace
}  // namespace kantu
