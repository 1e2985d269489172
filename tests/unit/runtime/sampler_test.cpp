#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "core/error.h"

namespace kantu::runtime {
namespace {

std::vector<int32_t> none;

// Draws n samples and returns the count of each token.
std::map<int32_t, int> histogram(const SamplingParams& p, const std::vector<float>& logits,
                                 int n, const std::vector<int32_t>& seen = {},
                                 const std::vector<int32_t>& generated = {}) {
  Sampler sampler(p);
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) {
    std::vector<float> row = logits;
    counts[sampler.sample(row, seen, generated)]++;
  }
  return counts;
}

TEST(Sampler, GreedyIsArgmaxWithFirstIndexOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  std::vector<float> logits = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(logits, none, none), 1);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  // token 0: 4 -> 2 (seen twice, penalised once); token 2: -1 -> -2; token 1 untouched.
  std::vector<float> logits = {4.0f, 3.0f, -1.0f};
  std::vector<int32_t> seen = {0, 2, 0};
  EXPECT_EQ(s.sample(logits, seen, none), 1);
  EXPECT_FLOAT_EQ(logits[0], 2.0f);
  EXPECT_FLOAT_EQ(logits[1], 3.0f);
  EXPECT_FLOAT_EQ(logits[2], -2.0f);
}

TEST(Sampler, PresencePenaltySubtractsOncePerGeneratedToken) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 1.5f;
  Sampler s(p);
  std::vector<float> logits = {4.0f, 3.0f, 1.0f};
  std::vector<int32_t> seen = {1, 0, 0};  // prompt token 1 is not penalised
  std::vector<int32_t> generated = {0, 0};
  EXPECT_EQ(s.sample(logits, seen, generated), 1);
  EXPECT_FLOAT_EQ(logits[0], 2.5f);
  EXPECT_FLOAT_EQ(logits[1], 3.0f);
}

TEST(Sampler, OutOfVocabularyHistoryIsAnError) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 1.1f;
  Sampler s(p);
  std::vector<float> logits = {1, 2};
  std::vector<int32_t> seen = {7};
  EXPECT_THROW(s.sample(logits, seen, none), Error);
}

TEST(Sampler, TopKOneAlwaysPicksTheBest) {
  SamplingParams p;
  p.top_k = 1;
  auto counts = histogram(p, {1.0f, 1.2f, 0.9f, 1.1f}, 200);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.begin()->first, 1);
}

TEST(Sampler, TopKKeepsExactlyTheKBest) {
  SamplingParams p;
  p.top_k = 2;
  auto counts = histogram(p, {0.0f, 2.0f, 1.0f, 1.9f, -5.0f}, 2000);
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[3], 0);
}

TEST(Sampler, TopKKeepsTiesAtTheKthValueLikeHF) {
  SamplingParams p;
  p.top_k = 2;
  auto counts = histogram(p, {3.0f, 1.0f, 1.0f, 0.0f}, 3000);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_GT(counts[1], 0);
  EXPECT_GT(counts[2], 0);
}

TEST(Sampler, TopPKeepsTheSmallestSetReachingP) {
  // probabilities 0.5, 0.3, 0.15, 0.05 (log-probabilities as logits)
  std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)};
  SamplingParams p;
  p.top_p = 0.75f;  // mass before token 2 is 0.8 >= 0.75: tokens 0 and 1 only
  auto counts = histogram(p, logits, 4000);
  EXPECT_EQ(counts.size(), 2u);
  // renormalised 0.625 / 0.375
  EXPECT_NEAR(counts[0] / 4000.0, 0.625, 0.03);
  p.top_p = 0.85f;  // now token 2 is needed too
  counts = histogram(p, logits, 4000);
  EXPECT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts.count(3), 0u);
  p.top_p = 0.1f;  // at least one token survives
  counts = histogram(p, logits, 100);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.begin()->first, 0);
}

TEST(Sampler, TopPOnALargeVocabularyGrowsThePrefix) {
  // 100 favoured tokens hold < 1% of the mass: top_p 0.9 must reach far into the flat
  // tail (ids in order), well past the first sorted block.
  std::vector<float> logits(151936, 0.0f);
  for (int i = 0; i < 100; ++i) logits[i * 1000 + 7] = 1.0f;
  SamplingParams p;
  p.top_p = 0.9f;
  p.seed = 3;
  Sampler sampler(p);
  int32_t highest = 0;
  for (int i = 0; i < 20; ++i) {
    std::vector<float> row = logits;
    highest = std::max(highest, sampler.sample(row, none, none));
  }
  EXPECT_GT(highest, 50000);
  // and it stops at 90%: the last ~10% of the tail (ids above ~137k) never appears
  for (int i = 0; i < 20; ++i) {
    std::vector<float> row = logits;
    ASSERT_LT(sampler.sample(row, none, none), 138000);
  }
}

TEST(Sampler, MinPDropsTokensBelowTheScaledBest) {
  std::vector<float> logits = {std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  SamplingParams p;
  p.min_p = 0.4f;  // threshold 0.24: token 2 (0.1) goes, token 1 (0.3) stays
  auto counts = histogram(p, logits, 3000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.count(2), 0u);
  EXPECT_NEAR(counts[0] / 3000.0, 2.0 / 3.0, 0.03);
}

TEST(Sampler, TemperatureSharpensTheDistribution) {
  std::vector<float> logits = {0.0f, std::log(3.0f)};  // p = 0.25 / 0.75 at T = 1
  SamplingParams p;
  p.temperature = 0.5f;  // p ∝ 1 : 9
  auto counts = histogram(p, logits, 5000);
  EXPECT_NEAR(counts[1] / 5000.0, 0.9, 0.02);
  p.temperature = 1.0f;
  counts = histogram(p, logits, 5000);
  EXPECT_NEAR(counts[1] / 5000.0, 0.75, 0.02);
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedDifferent) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
  auto draw = [&](uint64_t seed) {
    SamplingParams p;
    p.seed = seed;
    p.top_k = 50;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 32; ++i) {
      std::vector<float> row = logits;
      out.push_back(s.sample(row, none, none));
    }
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(Sampler, UniformIsInUnitInterval) {
  Sampler s(SamplingParams{});
  for (int i = 0; i < 10000; ++i) {
    double u = s.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Sampler, RejectsOutOfRangeParameters) {
  auto bad = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    EXPECT_THROW(Sampler{p}, Error);
  };
  bad([](SamplingParams& p) { p.temperature = -1; });
  bad([](SamplingParams& p) { p.temperature = NAN; });
  bad([](SamplingParams& p) { p.top_k = -3; });
  bad([](SamplingParams& p) { p.top_p = 0; });
  bad([](SamplingParams& p) { p.top_p = 1.5f; });
  bad([](SamplingParams& p) { p.min_p = -0.1f; });
  bad([](SamplingParams& p) { p.repetition_penalty = 0; });
  bad([](SamplingParams& p) { p.presence_penalty = 3; });
}

TEST(Sampler, NonFiniteLogitsAreReported) {
  SamplingParams p;
  Sampler s(p);
  std::vector<float> logits = {NAN, NAN};
  EXPECT_THROW(s.sample(logits, none, none), Error);
}

}  // namespace
}  // namespace kantu::runtime
