// The /metrics text, pinned: every family's HELP and TYPE lines and its values in the
// Prometheus text format, the image cache's, memory plan's and prefix cache's included, in
// the order a scraper has always seen them.
#include "server/metrics.h"

#include <gtest/gtest.h>

#include <numeric>

#include "core/error.h"
#include "models/blocks/kv_cache.h"
#include "runtime/prefix_cache.h"
#include "server/lru_cache.h"
#include "server/memory_budget.h"

namespace kantu::server {
namespace {

// A prefix cache with two blocks of 16 tokens room, after a sequence of 40 tokens was
// stored (one block evicted) and looked up three times.
std::shared_ptr<runtime::PrefixCache> metrics_prefix_cache() {
  const models::blocks::KvShape shape{1, 4, 16, nullptr};
  const size_t block_bytes = models::blocks::KvBlock::bytes_for(shape);
  auto cache = std::make_shared<runtime::PrefixCache>(2 * block_bytes);
  std::vector<runtime::TokenKey> keys(40);
  std::iota(keys.begin(), keys.end(), runtime::TokenKey{500});
  std::vector<models::KvBlockPtr> blocks;
  for (int i = 0; i < 3; ++i) blocks.push_back(std::make_shared<models::blocks::KvBlock>(shape));
  cache->lookup("m", keys, 40);  // a miss
  cache->insert("m", keys, 16, block_bytes, [&](int64_t b) { return blocks.at(b); });
  cache->lookup("m", keys, 39);                          // a hit
  cache->lookup("m", std::vector<runtime::TokenKey>{1, 2, 3}, 3);  // a miss
  return cache;
}

TEST(Metrics, TheTextIsPinned) {
  Metrics m;
  m.count_request("/v1/chat/completions", 200);
  m.count_request("/v1/chat/completions", 200);
  m.count_request("/v1/chat/completions", 400);
  m.count_request("/health", 200);
  m.add_tokens(30, 7);
  m.add_tokens(12, 5);
  m.count_image_cache(true);
  m.count_image_cache(false);
  m.count_image_cache(false);
  m.set_queue_depth(3, 2);
  m.count_cancelled();
  m.count_decode_batch(4);
  m.count_decode_batch(2);
  m.observe(Stage::kPrefill, 0.02);
  m.observe(Stage::kPrefill, 3.0);
  m.observe(Stage::kDecode, 100.0);

  MemoryBudget budget(size_t{1} << 30, std::chrono::milliseconds(0));
  budget.reserve_fixed("weights", 5000);
  MemoryBudget::Reservation held = budget.reserve(700, "a request");
  EXPECT_THROW(budget.reserve(size_t{2} << 30, "too big"), Error);
  m.set_memory_budget(&budget);
  const auto cache = metrics_prefix_cache();
  const runtime::PrefixCacheStats s = cache->stats();
  ASSERT_EQ(s.hits, 1);
  ASSERT_EQ(s.misses, 2);
  m.set_prefix_cache(cache);
  LruCache<int> images(1000);
  images.put("a", std::make_shared<const int>(1), 300);
  images.put("b", std::make_shared<const int>(2), 400);
  m.set_image_cache([&] { return images.usage(); });

  const std::string text = m.render();
  const std::string head =
      "# HELP kantu_requests_total HTTP requests by endpoint and status code.\n"
      "# TYPE kantu_requests_total counter\n"
      "kantu_requests_total{endpoint=\"/health\",status=\"200\"} 1\n"
      "kantu_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2\n"
      "kantu_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n"
      "# HELP kantu_queue_depth Requests waiting for the engine.\n"
      "# TYPE kantu_queue_depth gauge\n"
      "kantu_queue_depth 3\n"
      "# HELP kantu_active_sequences Sequences being generated.\n"
      "# TYPE kantu_active_sequences gauge\n"
      "kantu_active_sequences 2\n"
      "# HELP kantu_cancelled_sequences_total Sequences dropped because their client left.\n"
      "# TYPE kantu_cancelled_sequences_total counter\n"
      "kantu_cancelled_sequences_total 1\n"
      "# HELP kantu_decode_batches_total Batched decode steps (one pass over the weights each).\n"
      "# TYPE kantu_decode_batches_total counter\n"
      "kantu_decode_batches_total 2\n"
      "# HELP kantu_decode_batch_sequences_total Sequences advanced by batched decode steps (/ batches = mean batch size).\n"
      "# TYPE kantu_decode_batch_sequences_total counter\n"
      "kantu_decode_batch_sequences_total 6\n"
      "# HELP kantu_prompt_tokens_total Prompt tokens processed (prefill).\n"
      "# TYPE kantu_prompt_tokens_total counter\n"
      "kantu_prompt_tokens_total 42\n"
      "# HELP kantu_completion_tokens_total Tokens generated.\n"
      "# TYPE kantu_completion_tokens_total counter\n"
      "kantu_completion_tokens_total 12\n"
      "# HELP kantu_image_cache_total Image-embedding cache lookups.\n"
      "# TYPE kantu_image_cache_total counter\n"
      "kantu_image_cache_total{result=\"hit\"} 1\n"
      "kantu_image_cache_total{result=\"miss\"} 2\n"
      "# HELP kantu_image_cache_bytes Bytes the image-embedding cache holds (--cache-mb bounds it).\n"
      "# TYPE kantu_image_cache_bytes gauge\n"
      "kantu_image_cache_bytes 700\n"
      "# HELP kantu_image_cache_entries Image embeddings the cache holds.\n"
      "# TYPE kantu_image_cache_entries gauge\n"
      "kantu_image_cache_entries 2\n"
      "# HELP kantu_memory_limit_bytes The memory plan's total (--max-memory-mb).\n"
      "# TYPE kantu_memory_limit_bytes gauge\n"
      "kantu_memory_limit_bytes 1073741824\n"
      "# HELP kantu_memory_fixed_bytes Planned for the model, its buffers, caches and request bodies.\n"
      "# TYPE kantu_memory_fixed_bytes gauge\n"
      "kantu_memory_fixed_bytes 5000\n"
      "# HELP kantu_memory_reserved_bytes Reserved by the requests being served.\n"
      "# TYPE kantu_memory_reserved_bytes gauge\n"
      "kantu_memory_reserved_bytes 700\n"
      "# HELP kantu_memory_waits_total Requests that waited for memory.\n"
      "# TYPE kantu_memory_waits_total counter\n"
      "kantu_memory_waits_total 0\n"
      "# HELP kantu_memory_refused_total Requests refused for memory (503 or 413).\n"
      "# TYPE kantu_memory_refused_total counter\n"
      "kantu_memory_refused_total 1\n"
      "# HELP kantu_prefix_cache_lookups_total Prefix KV cache lookups: a hit reused at least one token.\n"
      "# TYPE kantu_prefix_cache_lookups_total counter\n"
      "kantu_prefix_cache_lookups_total{result=\"hit\"} 1\n"
      "kantu_prefix_cache_lookups_total{result=\"miss\"} 2\n"
      "# HELP kantu_prefix_cache_hit_tokens_total Prompt tokens taken from the prefix KV cache.\n"
      "# TYPE kantu_prefix_cache_hit_tokens_total counter\n"
      "kantu_prefix_cache_hit_tokens_total " + std::to_string(s.hit_tokens) + "\n"
      "# HELP kantu_prefix_cache_evictions_total KV blocks the prefix cache let go for room.\n"
      "# TYPE kantu_prefix_cache_evictions_total counter\n"
      "kantu_prefix_cache_evictions_total " + std::to_string(s.evictions) + "\n"
      "# HELP kantu_prefix_cache_bytes KV bytes the prefix cache holds.\n"
      "# TYPE kantu_prefix_cache_bytes gauge\n"
      "kantu_prefix_cache_bytes " + std::to_string(s.bytes) + "\n"
      "# HELP kantu_prefix_cache_budget_bytes The prefix cache's bound (--kv-cache-mb).\n"
      "# TYPE kantu_prefix_cache_budget_bytes gauge\n"
      "kantu_prefix_cache_budget_bytes " + std::to_string(s.budget) + "\n"
      "# HELP kantu_prefix_cache_blocks KV blocks the prefix cache holds.\n"
      "# TYPE kantu_prefix_cache_blocks gauge\n"
      "kantu_prefix_cache_blocks " + std::to_string(s.blocks) + "\n"
      "# HELP kantu_stage_seconds Latency of each request stage.\n"
      "# TYPE kantu_stage_seconds histogram\n";
  ASSERT_EQ(text.substr(0, head.size()), head);
  // The evicting cache's figures are not all zero, so a swapped value would show.
  EXPECT_GT(s.hit_tokens, 0);
  EXPECT_GT(s.evictions, 0);
  EXPECT_GT(s.blocks, 0);

  const std::string prefill =
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.005\"} 0\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.01\"} 0\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.025\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.05\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.1\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.25\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"0.5\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"1\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"2.5\"} 1\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"5\"} 2\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"10\"} 2\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"30\"} 2\n"
      "kantu_stage_seconds_bucket{stage=\"prefill\",le=\"+Inf\"} 2\n"
      "kantu_stage_seconds_sum{stage=\"prefill\"} 3.02\n"
      "kantu_stage_seconds_count{stage=\"prefill\"} 2\n"
      "kantu_stage_seconds_bucket{stage=\"decode\",le=\"0.005\"} 0\n";
  EXPECT_NE(text.find(prefill), std::string::npos) << text;
  EXPECT_NE(text.find("kantu_stage_seconds_bucket{stage=\"decode\",le=\"30\"} 0\n"
                      "kantu_stage_seconds_bucket{stage=\"decode\",le=\"+Inf\"} 1\n"
                      "kantu_stage_seconds_sum{stage=\"decode\"} 100\n"),
            std::string::npos)
      << text;
  const std::string tail = "kantu_stage_seconds_count{stage=\"total\"} 0\n";
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail);
}

// The image cache's gauges are what it holds when scraped, not when it was handed over.
TEST(Metrics, ImageCacheGaugesAreReadAtEveryScrape) {
  Metrics m;
  LruCache<int> images(1000);
  m.set_image_cache([&] { return images.usage(); });
  EXPECT_NE(m.render().find("kantu_image_cache_bytes 0\n"), std::string::npos);
  images.put("a", std::make_shared<const int>(1), 300);
  images.put("b", std::make_shared<const int>(2), 400);
  images.put("c", std::make_shared<const int>(3), 500);  // evicts a
  images.put("d", std::make_shared<const int>(4), 50);
  const std::string text = m.render();
  EXPECT_NE(text.find("kantu_image_cache_bytes 950\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kantu_image_cache_entries 3\n"), std::string::npos) << text;
  m.set_image_cache(nullptr);
  EXPECT_EQ(m.render().find("kantu_image_cache_bytes"), std::string::npos);
}

TEST(Metrics, WithoutAMemoryPlanOrAPrefixCacheTheirBlocksAreLeftOut) {
  const std::string text = Metrics().render();
  EXPECT_EQ(text.find("kantu_memory_"), std::string::npos);
  EXPECT_EQ(text.find("kantu_prefix_cache_"), std::string::npos);
  EXPECT_EQ(text.find("kantu_image_cache_bytes"), std::string::npos);
  EXPECT_NE(text.find("kantu_image_cache_total{result=\"miss\"} 0\n"
                      "# HELP kantu_stage_seconds Latency of each request stage.\n"),
            std::string::npos);
}

}  // namespace
}  // namespace kantu::server
