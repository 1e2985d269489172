#include "runtime/generation_loop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "core/error.h"

namespace kantu::runtime {
namespace {

constexpr int kVocab = 16;
constexpr int32_t kEos = 15;

// Scripted model: the logits always favour script[position], where position counts
// generated tokens; records what it was fed.
class ScriptedModel : public StepModel {
 public:
  explicit ScriptedModel(std::vector<int32_t> script) : script_(std::move(script)) {}
  void prefill(std::vector<float>* logits) override {
    ++prefills;
    fill(logits);
  }
  void decode(int32_t token, std::vector<float>* logits) override {
    fed.push_back(token);
    fill(logits);
  }
  int prefills = 0;
  std::vector<int32_t> fed;

 private:
  void fill(std::vector<float>* logits) {
    logits->assign(kVocab, 0.0f);
    (*logits)[0] = 1.0f;  // a runner-up, for penalty tests
    size_t pos = fed.size();
    int32_t best = pos < script_.size() ? script_[pos] : 0;
    (*logits)[best] = 10.0f;
  }
  std::vector<int32_t> script_;
};

// Token i decodes to the i-th string; "\xE2" + "\x82\xAC" shows a split character.
class TableDecoder : public TokenTextDecoder {
 public:
  std::string push(int32_t id) override {
    static const std::map<int32_t, std::string> table = {
        {1, "Hel"}, {2, "lo"}, {3, " wor"}, {4, "ld"}, {5, "\xE2"}, {6, "\x82\xAC"},
        {7, "<"},   {8, "/s"}, {9, ">"},    {10, "!"}};
    pending_ += table.count(id) ? table.at(id) : "?";
    // release only complete UTF-8 (enough for the test: hold a lone lead byte)
    if (!pending_.empty() && static_cast<unsigned char>(pending_.back()) >= 0xC0) {
      std::string out = pending_.substr(0, pending_.size() - 1);
      pending_ = pending_.substr(pending_.size() - 1);
      return out;
    }
    std::string out;
    out.swap(pending_);
    return out;
  }
  std::string flush() override {
    std::string out;
    out.swap(pending_);
    return out.empty() ? out : "\xEF\xBF\xBD";
  }

 private:
  std::string pending_;
};

LoopOptions greedy(int64_t max_new) {
  LoopOptions o;
  o.sampling.temperature = 0;
  o.max_new_tokens = max_new;
  o.stop_ids = {kEos};
  return o;
}

const std::vector<int32_t> kPrompt = {1, 2, 3};

TEST(GenerationLoop, StopsAtStopIdWithoutDecodingIt) {
  ScriptedModel model({1, 2, 3, 4, kEos, 1});
  TableDecoder decoder;
  std::string streamed;
  auto r = run_generation_loop(model, kPrompt, decoder, greedy(10), [&](std::string_view p) {
    streamed += p;
    return true;
  });
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2, 3, 4, kEos}));
  EXPECT_EQ(r.text, "Hello world");
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
  EXPECT_EQ(model.prefills, 1);
  EXPECT_EQ(model.fed, (std::vector<int32_t>{1, 2, 3, 4}));  // the stop token is never fed
  EXPECT_EQ(r.timings.prompt_tokens, 3);
  EXPECT_EQ(r.timings.generated_tokens, 5);
  EXPECT_EQ(r.timings.decode_steps, 4);
}

TEST(GenerationLoop, LengthLimit) {
  ScriptedModel model({1, 2, 3, 4, kEos});
  TableDecoder decoder;
  auto r = run_generation_loop(model, kPrompt, decoder, greedy(2), nullptr);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(r.text, "Hello");
  EXPECT_EQ(r.finish_reason, FinishReason::kLength);
  EXPECT_EQ(model.fed.size(), 1u);
}

TEST(GenerationLoop, IgnoreStopIdsGeneratesExactlyN) {
  ScriptedModel model({kEos, kEos, kEos, kEos});
  TableDecoder decoder;
  LoopOptions o = greedy(4);
  o.ignore_stop_ids = true;
  auto r = run_generation_loop(model, kPrompt, decoder, o, nullptr);
  EXPECT_EQ(r.ids.size(), 4u);
  EXPECT_EQ(r.finish_reason, FinishReason::kLength);
}

TEST(GenerationLoop, ContextLimitCapsGenerationAndRefusesLongPrompts) {
  ScriptedModel model({1, 2, 3, 4, 1, 2});
  TableDecoder decoder;
  LoopOptions o = greedy(100);
  o.max_context = 5;  // 3 prompt tokens leave room for 2
  auto r = run_generation_loop(model, kPrompt, decoder, o, nullptr);
  EXPECT_EQ(r.ids.size(), 2u);
  EXPECT_EQ(r.finish_reason, FinishReason::kLength);
  o.max_context = 2;
  ScriptedModel untouched({1});
  try {
    run_generation_loop(untouched, kPrompt, decoder, o, nullptr);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTooLarge);
    EXPECT_NE(std::string(e.what()).find("3 tokens"), std::string::npos);
  }
  EXPECT_EQ(untouched.prefills, 0);  // refused before any work
}

TEST(GenerationLoop, StopStringAcrossTokensEndsGenerationAndIsNotReturned) {
  ScriptedModel model({1, 2, 7, 8, 9, 10, 1});
  TableDecoder decoder;
  LoopOptions o = greedy(10);
  o.stop_strings = {"</s>"};
  std::vector<std::string> pieces;
  auto r = run_generation_loop(model, kPrompt, decoder, o, [&](std::string_view p) {
    pieces.emplace_back(p);
    return true;
  });
  EXPECT_EQ(r.text, "Hello");
  EXPECT_EQ(r.finish_reason, FinishReason::kStop);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{1, 2, 7, 8, 9}));
  EXPECT_EQ(pieces, (std::vector<std::string>{"Hel", "lo", "", "", ""}));
}

TEST(GenerationLoop, HeldStopPrefixIsReleasedAtTheEnd) {
  ScriptedModel model({1, 7, 8});
  TableDecoder decoder;
  LoopOptions o = greedy(3);
  o.stop_strings = {"</s>"};
  auto r = run_generation_loop(model, kPrompt, decoder, o, nullptr);
  EXPECT_EQ(r.text, "Hel</s");
  EXPECT_EQ(r.finish_reason, FinishReason::kLength);
}

TEST(GenerationLoop, SplitUtf8CharactersStreamWhole) {
  ScriptedModel model({5, 6, 5});
  TableDecoder decoder;
  std::vector<std::string> pieces;
  auto r = run_generation_loop(model, kPrompt, decoder, greedy(3), [&](std::string_view p) {
    pieces.emplace_back(p);
    return true;
  });
  EXPECT_EQ(pieces, (std::vector<std::string>{"", "\xE2\x82\xAC", "", "\xEF\xBF\xBD"}));
  EXPECT_EQ(r.text, "\xE2\x82\xAC\xEF\xBF\xBD");
}

TEST(GenerationLoop, CallbackReturningFalseCancels) {
  ScriptedModel model({1, 2, 3, 4});
  TableDecoder decoder;
  int calls = 0;
  auto r = run_generation_loop(model, kPrompt, decoder, greedy(10), [&](std::string_view) {
    return ++calls < 2;
  });
  EXPECT_EQ(r.finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(r.ids.size(), 2u);
  EXPECT_EQ(calls, 2);
}

TEST(GenerationLoop, RepetitionPenaltySeesThePrompt) {
  // The script favours token 1 (already in the prompt, logit 10) over token 0
  // (logit 1); penalty 100 turns 10 into 0.1 and flips the choice.
  ScriptedModel model({1});
  TableDecoder decoder;
  LoopOptions o = greedy(1);
  o.sampling.repetition_penalty = 100.0f;
  auto r = run_generation_loop(model, kPrompt, decoder, o, nullptr);
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0}));
}

TEST(GenerationLoop, ZeroNewTokensAndEmptyPrompt) {
  ScriptedModel model({1});
  TableDecoder decoder;
  auto r = run_generation_loop(model, kPrompt, decoder, greedy(0), nullptr);
  EXPECT_TRUE(r.ids.empty());
  EXPECT_EQ(model.prefills, 0);
  EXPECT_THROW(run_generation_loop(model, {}, decoder, greedy(4), nullptr), Error);
  EXPECT_THROW(run_generation_loop(model, kPrompt, decoder, greedy(-1), nullptr), Error);
}

// A prefill whose first `cached` prompt tokens came from a prefix cache: it takes some
// time (so there is a rate to report) and runs only the rest.
class CachedPrefixModel : public ScriptedModel {
 public:
  CachedPrefixModel(std::vector<int32_t> script, int64_t cached)
      : ScriptedModel(std::move(script)), cached_(cached) {}
  void prefill(std::vector<float>* logits) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ScriptedModel::prefill(logits);
  }
  int64_t cached_tokens() const override { return cached_; }

 private:
  int64_t cached_;
};

TEST(GenerationLoop, PrefillSpeedCountsOnlyTheTokensNotCached) {
  const std::vector<int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  for (int64_t cached : {int64_t{0}, int64_t{6}, int64_t{9}}) {
    SCOPED_TRACE(cached);
    CachedPrefixModel model({1, 2}, cached);
    TableDecoder decoder;
    const Timings t = run_generation_loop(model, prompt, decoder, greedy(2), nullptr).timings;
    EXPECT_EQ(t.prompt_tokens, 10);
    EXPECT_EQ(t.cached_tokens, cached);
    ASSERT_GT(t.prefill_ms, 0);
    EXPECT_DOUBLE_EQ(t.prefill_tok_s, static_cast<double>(10 - cached) * 1000.0 / t.prefill_ms);
  }
}

TEST(GenerationLoop, PrefillSpeedOfNothingPrefilledIsZero) {
  EXPECT_DOUBLE_EQ(prefill_tokens_per_second(100, 40, 20.0), 3000.0);
  EXPECT_DOUBLE_EQ(prefill_tokens_per_second(100, 0, 50.0), 2000.0);
  EXPECT_EQ(prefill_tokens_per_second(100, 100, 3.0), 0.0);  // every token cached
  EXPECT_EQ(prefill_tokens_per_second(100, 120, 3.0), 0.0);  // more than the prompt: none run
  EXPECT_EQ(prefill_tokens_per_second(100, 10, 0.0), 0.0);   // no time measured
  EXPECT_EQ(prefill_tokens_per_second(0, 0, 5.0), 0.0);
  EXPECT_DOUBLE_EQ(prefill_tokens_per_second(10, -3, 10.0), 1000.0);  // negative: none cached
}

}  // namespace
}  // namespace kantu::runtime
