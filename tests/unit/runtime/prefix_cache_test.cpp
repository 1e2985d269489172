// The prefix cache's tree on blocks of 16 tokens: longest-prefix lookups (whole blocks,
// then part of one), keys of image tokens, models kept apart, the byte bound with
// least-recently-used eviction (leaves first), and a budget of 0.
#include "runtime/prefix_cache.h"

#include <gtest/gtest.h>

#include <numeric>

#include "core/error.h"
#include "models/blocks/kv_cache.h"

namespace kantu::runtime {
namespace {

constexpr int64_t B = 16;
const models::blocks::KvShape kShape{1, 4, B, nullptr};
const size_t kBlockBytes = models::blocks::KvBlock::bytes_for(kShape);

// A "sequence" of n tokens with keys first, first+1, ...: its blocks, made on demand.
struct FakeSequence {
  std::vector<TokenKey> keys;
  std::vector<models::KvBlockPtr> blocks;
  FakeSequence(TokenKey first, int64_t n) : keys(n) {
    std::iota(keys.begin(), keys.end(), first);
    for (int64_t i = 0; i < (n + B - 1) / B; ++i)
      blocks.push_back(std::make_shared<models::blocks::KvBlock>(kShape));
  }
  void store(PrefixCache& cache, const std::string& model = "m") const {
    cache.insert(model, keys, B, kBlockBytes, [&](int64_t b) { return blocks.at(b); });
  }
};

TEST(PrefixCache, FindsTheLongestStoredPrefixInWholeBlocksThenPartOfOne) {
  PrefixCache cache(100 * kBlockBytes);
  const FakeSequence a(1000, 40);  // blocks of 16, 16, 8
  EXPECT_EQ(cache.lookup("m", a.keys, 40).tokens, 0);
  a.store(cache);
  PrefixCache::Match m = cache.lookup("m", a.keys, 40);
  EXPECT_EQ(m.tokens, 40);
  ASSERT_EQ(m.blocks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(m.blocks[i], a.blocks[i]);  // shared, not copied
  EXPECT_EQ(cache.lookup("m", a.keys, 39).tokens, 39);  // the limit holds
  EXPECT_EQ(cache.lookup("m", a.keys, 16).blocks.size(), 1u);

  std::vector<TokenKey> diverging = a.keys;
  diverging[20] = 7;
  m = cache.lookup("m", diverging, 40);
  EXPECT_EQ(m.tokens, 20);
  EXPECT_EQ(m.blocks.size(), 2u);
  diverging[0] = 7;
  EXPECT_EQ(cache.lookup("m", diverging, 40).tokens, 0);
  const PrefixCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 4);
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.hit_tokens, 40 + 39 + 16 + 20);
  EXPECT_EQ(s.blocks, 3);
  EXPECT_EQ(s.bytes, 3 * kBlockBytes);
}

TEST(PrefixCache, ALongerSequenceReplacesAStoredEndAndKeepsOneNodePerBlock) {
  PrefixCache cache(100 * kBlockBytes);
  const FakeSequence turn1(1, 20), turn2(1, 50);  // turn2 continues turn1
  turn1.store(cache);
  EXPECT_EQ(cache.stats().blocks, 2);
  turn2.store(cache);
  EXPECT_EQ(cache.stats().blocks, 4);  // 16 + 16 + 16 + 2: turn1's end was extended
  PrefixCache::Match m = cache.lookup("m", turn2.keys, 50);
  EXPECT_EQ(m.tokens, 50);
  EXPECT_EQ(m.blocks[1], turn2.blocks[1]);
  turn1.store(cache);  // already held (with more after it): nothing changes
  EXPECT_EQ(cache.stats().blocks, 4);
  EXPECT_EQ(cache.lookup("m", turn2.keys, 50).blocks[1], turn2.blocks[1]);
}

TEST(PrefixCache, ModelsNeverShareBlocks) {
  PrefixCache cache(100 * kBlockBytes);
  const FakeSequence a(1, 32);
  a.store(cache, "model-a|bf16");
  EXPECT_EQ(cache.lookup("model-a|q8", a.keys, 32).tokens, 0);
  EXPECT_EQ(cache.lookup("model-b|bf16", a.keys, 32).tokens, 0);
  EXPECT_EQ(cache.lookup("model-a|bf16", a.keys, 32).tokens, 32);
}

TEST(PrefixCache, StaysWithinItsBudgetEvictingTheLeastRecentlyUsedEndsFirst) {
  PrefixCache cache(3 * kBlockBytes);
  const FakeSequence a(1, 32), b(1000, 32), c(5000, 32);
  a.store(cache);
  b.store(cache);  // 4 blocks > 3: a's second block goes (a's first is still a prefix)
  PrefixCacheStats s = cache.stats();
  EXPECT_LE(s.bytes, s.budget);
  EXPECT_EQ(s.evictions, 1);
  EXPECT_EQ(cache.lookup("m", a.keys, 32).tokens, 16);
  EXPECT_EQ(cache.lookup("m", b.keys, 32).tokens, 32);
  // a was used before b: c's blocks push out a's first block, then b's end.
  c.store(cache);
  s = cache.stats();
  EXPECT_LE(s.bytes, s.budget);
  EXPECT_EQ(s.evictions, 3);
  EXPECT_EQ(cache.lookup("m", a.keys, 32).tokens, 0);
  EXPECT_EQ(cache.lookup("m", b.keys, 32).tokens, 16);
  EXPECT_EQ(cache.lookup("m", c.keys, 32).tokens, 32);
  // An evicted block stays valid for whoever holds it.
  EXPECT_EQ(a.blocks[1].use_count(), 1);
}

TEST(PrefixCache, ASequenceLongerThanTheBudgetKeepsItsStartAndNeverFails) {
  PrefixCache cache(2 * kBlockBytes);
  const FakeSequence big(1, 100);
  big.store(cache);
  EXPECT_LE(cache.stats().bytes, 2 * kBlockBytes);
  EXPECT_EQ(cache.lookup("m", big.keys, 100).tokens, 32);
  PrefixCache tiny(kBlockBytes / 2);  // not even one block
  big.store(tiny);
  EXPECT_EQ(tiny.stats().bytes, 0u);
  EXPECT_EQ(tiny.lookup("m", big.keys, 100).tokens, 0);
}

TEST(PrefixCache, ABudgetOfZeroKeepsAndCountsNothing) {
  PrefixCache cache(0);
  const FakeSequence a(1, 32);
  a.store(cache);
  EXPECT_EQ(cache.lookup("m", a.keys, 32).tokens, 0);
  const PrefixCacheStats s = cache.stats();
  EXPECT_EQ(s.blocks, 0);
  EXPECT_EQ(s.hits + s.misses, 0);
}

TEST(PrefixCacheKeys, ImageTokensAreKeyedByTheImageNotThePlaceholder) {
  const int32_t pad = 99;
  const std::vector<int32_t> ids = {1, 2, pad, pad, pad, 3, pad, pad, 4};
  const std::vector<ImageTokens> xy = {{image_cache_key("x", 10, 20), 3}, {image_cache_key("y", 10, 20), 2}};
  const std::vector<ImageTokens> yy = {{image_cache_key("y", 10, 20), 3}, {image_cache_key("y", 10, 20), 2}};
  const std::vector<ImageTokens> x_budget = {{image_cache_key("x", 10, 30), 3}, {image_cache_key("y", 10, 20), 2}};
  const auto a = prompt_token_keys(ids, pad, xy);
  EXPECT_EQ(a, prompt_token_keys(ids, pad, xy));
  EXPECT_EQ(a[0], 1u);
  EXPECT_EQ(a[5], 3u);
  for (size_t i : {2, 3, 4, 6, 7}) {
    EXPECT_NE(a[i], static_cast<TokenKey>(pad)) << i;
    for (size_t j : {2, 3, 4, 6, 7}) {
      if (i != j) {
        EXPECT_NE(a[i], a[j]) << i << " " << j;
      }
    }
  }
  const auto b = prompt_token_keys(ids, pad, yy);
  EXPECT_NE(a[2], b[2]);  // another image at the same place
  EXPECT_EQ(a[6], b[6]);  // the same second image, same index
  EXPECT_NE(a[2], prompt_token_keys(ids, pad, x_budget)[2]);  // another budget
  EXPECT_THROW(prompt_token_keys(ids, pad, std::vector<ImageTokens>{{"x", 3}}), Error);
  EXPECT_THROW(prompt_token_keys(ids, pad, std::vector<ImageTokens>{{"x", 3}, {"y", 3}}), Error);
}

}  // namespace
}  // namespace kantu::runtime
