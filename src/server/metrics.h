// Counters, gauges and latency histograms for GET /metrics (Prometheus text format
// 0.0.4). Thread-safe: HTTP threads and the engine loop record concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "server/lru_cache.h"

namespace kantu::runtime {
class PrefixCache;
}

namespace kantu::server {

enum class Stage { kQueue, kImageEncode, kPrefill, kDecode, kTotal };
constexpr int kNumStages = 5;

class MemoryBudget;

class Metrics {
 public:
  // Adds the memory plan's gauges and counters (kantu_memory_*); the budget must
  // outlive the metrics.
  void set_memory_budget(const MemoryBudget* budget);
  // Adds the prefix KV cache's counters and gauges (kantu_prefix_cache_*).
  void set_prefix_cache(std::shared_ptr<const runtime::PrefixCache> cache);
  // Adds the image-embedding cache's gauges (kantu_image_cache_{bytes,entries}), asked at
  // every scrape; empty: none. A scrape calls it under the metrics lock, so once this
  // returned with another (or none) the old one is no longer called.
  void set_image_cache(std::function<CacheUsage()> usage);
  void count_request(const std::string& endpoint, int status);
  void add_tokens(int64_t prompt_tokens, int64_t completion_tokens);
  void observe(Stage stage, double seconds);
  void count_image_cache(bool hit);
  void set_queue_depth(int64_t waiting, int64_t active);
  void count_cancelled();                        // a sequence dropped: its client left
  void count_decode_batch(int64_t sequences);    // one batched decode step

  std::string render() const;  // the Prometheus exposition text

 private:
  std::string memory_text() const;
  std::string prefix_cache_text() const;
  // Upper bounds in seconds; a +Inf bucket is implicit.
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};
  struct Histogram {
    std::array<uint64_t, kBuckets.size() + 1> counts{};  // non-cumulative; last = +Inf
    double sum = 0;
    uint64_t count = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (endpoint, status) -> count
  int64_t prompt_tokens_ = 0;
  int64_t completion_tokens_ = 0;
  int64_t cache_hits_ = 0;
  int64_t cache_misses_ = 0;
  int64_t waiting_ = 0;
  int64_t active_ = 0;
  int64_t cancelled_ = 0;
  int64_t decode_batches_ = 0;
  int64_t decode_batch_sequences_ = 0;
  std::array<Histogram, kNumStages> stages_{};
  const MemoryBudget* memory_ = nullptr;
  std::shared_ptr<const runtime::PrefixCache> prefix_cache_;
  std::function<CacheUsage()> image_cache_usage_;
};

}  // namespace kantu::server
