// The prefix KV cache against the transformers goldens (Qwen3-VL, Qwen2.5-VL, Qwen2-VL):
// a prompt whose start earlier requests left in the cache (a conversation's next turn,
// the same prompt again, a shorter one) prefills only the rest, through the same
// runtime::CachedPrefill the engine and the server use, and gives the golden's logits
// (row-relative 1e-4, as full_model_test) and greedy tokens, in every order of the
// turns, chunked or not, and with a cache too small to keep everything. Two different
// images behind the same placeholder ids never share keys and values.
#include <gtest/gtest.h>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "runtime/cached_prefill.h"
#include "runtime/prefix_cache.h"

namespace kantu {
namespace {

using runtime::CachedPrefill;
using runtime::PrefixCache;
constexpr double kTol = 1e-4;
constexpr double kTieMargin = 1e-4;
constexpr int kGenerate = 8;
using Case = test::GoldenCase;

struct Answer {
  int64_t cached = 0;
  std::vector<float> logits;  // of the last prompt token
  std::vector<int32_t> greedy;
};

class PrefixCacheGolden : public test::FullModelGoldenTest<Case> {
 protected:
  void SetUp() override {
    test::FullModelGoldenTest<Case>::SetUp();
    const Case& c = GetParam();
    model_ = &test::cached_model(c.model);
    std::vector<models::VisualInput> inputs;
    images_ = test::golden_images(meta_, c.model);
    for (const auto& img : images_) inputs.push_back({img.pixel_values.data(), img.grid});
    if (!inputs.empty()) vision_ = model_->encode_images(inputs);
    key_ = runtime::prefix_model_key(*model_, {});
    // Where the first image ends (or the middle of a text prompt): the first turn's cut.
    cut_ = static_cast<int64_t>(ids_.size()) / 2;
    int64_t first_pad = 0;
    while (!images_.empty() && ids_[first_pad] != model_->image_token_id()) ++first_pad;
    if (!images_.empty()) cut_ = first_pad + vision_.tokens_per_image[0] + 1;  // + <|vision_end|>
    ASSERT_LT(cut_, static_cast<int64_t>(ids_.size()));
  }

  // One request as the engine runs it: cached prefill (in chunks of `chunk` tokens,
  // 0: whole), greedy tokens, its blocks stored for the next. `image_keys` override the
  // images' identities (and `vision` their rows).
  Answer run(PrefixCache* cache, std::span<const int32_t> ids, int64_t chunk = 0,
             const std::vector<std::string>& image_keys = {},
             const models::VisionOutput* vision = nullptr) {
    if (vision == nullptr) vision = &vision_;
    auto seq = model_->new_sequence(static_cast<int64_t>(ids.size()) + kGenerate + 1);
    const int64_t pads = std::count(ids.begin(), ids.end(), model_->image_token_id());
    std::vector<runtime::PrefillImage> images;
    int64_t covered = 0;
    for (size_t i = 0; i < images_.size() && covered < pads; ++i) {
      const int64_t n = vision->tokens_per_image[i];
      const std::string key = i < image_keys.size() ? image_keys[i] : "image-" + std::to_string(i);
      images.push_back({key, vision->grids[i], n, 0});
      covered += n;
    }
    EXPECT_EQ(covered, pads) << "a cut inside an image";
    CachedPrefill prefill(*model_, cache, key_, {ids.begin(), ids.end()}, images, *seq);
    int64_t row = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      if (prefill.needs_vision(i)) prefill.set_vision(i, vision, row);
      row += images[i].tokens;
    }
    while (!prefill.step(chunk)) {
    }
    Answer a;
    a.cached = prefill.cached_tokens();
    a.logits.assign(seq->logits().begin(), seq->logits().end());
    for (int k = 0; k < kGenerate; ++k) {
      const auto t = static_cast<int32_t>(test::argmax(seq->logits().data(), model_->vocab_size()));
      a.greedy.push_back(t);
      if (k + 1 < kGenerate) model_->decode(*seq, t);
    }
    prefill.remember(a.greedy);
    return a;
  }

  std::span<const int32_t> full() const { return ids_; }
  std::span<const int32_t> first_turn() const { return std::span(ids_).first(cut_); }

  // The full prompt's answer against the golden: last-row logits and greedy tokens (a
  // divergence only where the golden's top-2 margin is a tie).
  void expect_golden(const Answer& a) {
    const int64_t V = model_->vocab_size();
    const int64_t L = static_cast<int64_t>(ids_.size());
    std::vector<int64_t> positions = test::to_i64(golden_.get("logits_positions"));
    const auto at = std::find(positions.begin(), positions.end(), L - 1);
    ASSERT_NE(at, positions.end());
    const float* want = golden_.get("logits").as<float>() + (at - positions.begin()) * V;
    EXPECT_LE(test::max_row_relative_error(a.logits.data(), want, 1, V), kTol);
    const auto want_ids = meta_.at("generated_ids").get<std::vector<int64_t>>();
    const auto margins = meta_.at("greedy_top1_minus_top2").get<std::vector<double>>();
    for (size_t k = 0; k < a.greedy.size() && k < want_ids.size(); ++k) {
      if (a.greedy[k] != want_ids[k]) {
        EXPECT_LT(margins[k], kTieMargin) << "greedy token " << k;
        return;
      }
    }
  }
  // Warm against cold: same greedy tokens, logits within the golden tolerance.
  static void expect_same(const Answer& warm, const Answer& cold) {
    EXPECT_EQ(warm.greedy, cold.greedy);
    ASSERT_EQ(warm.logits.size(), cold.logits.size());
    EXPECT_LE(test::max_row_relative_error(warm.logits.data(), cold.logits.data(), 1,
                                           static_cast<int64_t>(cold.logits.size())),
              kTol);
  }

  models::Model* model_ = nullptr;
  std::vector<test::TestImage> images_;
  models::VisionOutput vision_;
  std::string key_;
  int64_t cut_ = 0;
};

TEST_P(PrefixCacheGolden, ColdFullPromptMatchesTheGolden) { expect_golden(run(nullptr, full())); }

TEST_P(PrefixCacheGolden, NextTurnReusesTheFirstAndMatchesTheGolden) {
  PrefixCache cache(size_t{256} << 20);
  const Answer cold_first = run(nullptr, first_turn());
  const Answer first = run(&cache, first_turn());
  EXPECT_EQ(first.cached, 0);
  expect_same(first, cold_first);
  const Answer next = run(&cache, full());
  EXPECT_GE(next.cached, cut_);
  expect_golden(next);
  EXPECT_EQ(cache.stats().hits, 1);
}

TEST_P(PrefixCacheGolden, FullPromptFirstThenTheShorterAndTheSameAgain) {
  PrefixCache cache(size_t{256} << 20);
  expect_golden(run(&cache, full()));
  const Answer shorter = run(&cache, first_turn(), /*chunk=*/7);
  EXPECT_EQ(shorter.cached, cut_ - 1);  // all but the last token, which gives the logits
  expect_same(shorter, run(nullptr, first_turn()));
  const Answer again = run(&cache, full(), /*chunk=*/5);
  EXPECT_EQ(again.cached, static_cast<int64_t>(ids_.size()) - 1);
  expect_golden(again);
}

TEST_P(PrefixCacheGolden, ACacheTooSmallForEverythingEvictsAndStaysExact) {
  PrefixCache cache(2 * model_->kv_block_bytes());
  const Answer cold_first = run(nullptr, first_turn());
  for (int round = 0; round < 2; ++round) {
    expect_same(run(&cache, first_turn(), 16), cold_first);
    expect_golden(run(&cache, full()));
    const runtime::PrefixCacheStats s = cache.stats();
    EXPECT_LE(s.bytes, s.budget);
    EXPECT_LE(s.blocks, 2);
  }
  if (static_cast<int64_t>(ids_.size()) > 2 * model_->kv_block_tokens()) {
    EXPECT_GT(cache.stats().evictions, 0);
  }
}

TEST_P(PrefixCacheGolden, AnotherImageBehindTheSamePlaceholdersIsNeverReused) {
  if (images_.empty()) GTEST_SKIP() << "no image";
  // Image 0 mirrored: the same grid and token count, other pixels.
  std::vector<models::VisualInput> inputs;
  std::vector<std::vector<float>> pixels;
  for (size_t i = 0; i < images_.size(); ++i) {
    pixels.push_back(images_[i].pixel_values);
    if (i == 0) {
      for (float& v : pixels.back()) v = -v;
    }
    inputs.push_back({pixels.back().data(), images_[i].grid});
  }
  const models::VisionOutput other = model_->encode_images(inputs);
  const std::vector<std::string> other_keys = {"other-0", "image-1", "image-2"};
  PrefixCache cache(size_t{256} << 20);
  run(&cache, full());
  const Answer warm = run(&cache, full(), 0, other_keys, &other);
  int64_t first_pad = 0;
  while (ids_[first_pad] != model_->image_token_id()) ++first_pad;
  EXPECT_EQ(warm.cached, first_pad);  // the text before the image, not one image token
  expect_same(warm, run(nullptr, full(), 0, other_keys, &other));
}

INSTANTIATE_TEST_SUITE_P(Qwen3VL, PrefixCacheGolden,
                         ::testing::Values(Case{"tiny-a", "text_only"}, Case{"tiny-a", "one_image"},
                                           Case{"tiny-a", "two_images"},
                                           Case{"tiny-a", "image_multiturn"}),
                         test::case_name<Case>);
INSTANTIATE_TEST_SUITE_P(Qwen2xVL, PrefixCacheGolden,
                         ::testing::Values(Case{"qwen25vl/tiny-a", "image_multiturn"},
                                           Case{"qwen2vl/tiny-a", "one_image"},
                                           Case{"qwen2vl/tiny-a", "two_images"}),
                         test::case_name<Case>);

}  // namespace
}  // namespace kantu
