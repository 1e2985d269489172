#include "server/metrics.h"

#include "runtime/prefix_cache.h"
#include "server/memory_budget.h"

#include <sstream>

namespace kantu::server {

namespace {
const char* stage_name(int s) {
  static const char* names[kNumStages] = {"queue", "image_encode", "prefill", "decode", "total"};
  return names[s];
}
}  // namespace

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::add_tokens(int64_t prompt_tokens, int64_t completion_tokens) {
  std::lock_guard lock(mutex_);
  prompt_tokens_ += prompt_tokens;
  completion_tokens_ += completion_tokens;
}

void Metrics::observe(Stage stage, double seconds) {
  std::lock_guard lock(mutex_);
  Histogram& h = stages_[static_cast<int>(stage)];
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  ++h.counts[b];
  h.sum += seconds;
  ++h.count;
}

void Metrics::count_image_cache(bool hit) {
  std::lock_guard lock(mutex_);
  ++(hit ? cache_hits_ : cache_misses_);
}

void Metrics::set_queue_depth(int64_t waiting, int64_t active) {
  std::lock_guard lock(mutex_);
  waiting_ = waiting;
  active_ = active;
}

void Metrics::count_cancelled() {
  std::lock_guard lock(mutex_);
  ++cancelled_;
}

void Metrics::count_decode_batch(int64_t sequences) {
  std::lock_guard lock(mutex_);
  ++decode_batches_;
  decode_batch_sequences_ += sequences;
}

void Metrics::set_memory_budget(const MemoryBudget* budget) {
  std::lock_guard lock(mutex_);
  memory_ = budget;
}

void Metrics::set_prefix_cache(std::shared_ptr<const runtime::PrefixCache> cache) {
  std::lock_guard lock(mutex_);
  prefix_cache_ = std::move(cache);
}

std::string Metrics::prefix_cache_text() const {
  if (!prefix_cache_) return "";
  const runtime::PrefixCacheStats s = prefix_cache_->stats();
  std::ostringstream o;
  o << "# HELP kantu_prefix_cache_lookups_total Prefix KV cache lookups: a hit reused at least one token.\n"
       "# TYPE kantu_prefix_cache_lookups_total counter\n"
    << "kantu_prefix_cache_lookups_total{result=\"hit\"} " << s.hits << "\n"
    << "kantu_prefix_cache_lookups_total{result=\"miss\"} " << s.misses << "\n"
    << "# HELP kantu_prefix_cache_hit_tokens_total Prompt tokens taken from the prefix KV cache.\n"
       "# TYPE kantu_prefix_cache_hit_tokens_total counter\n"
    << "kantu_prefix_cache_hit_tokens_total " << s.hit_tokens << "\n"
    << "# HELP kantu_prefix_cache_evictions_total KV blocks the prefix cache let go for room.\n"
       "# TYPE kantu_prefix_cache_evictions_total counter\n"
    << "kantu_prefix_cache_evictions_total " << s.evictions << "\n"
    << "# HELP kantu_prefix_cache_bytes KV bytes the prefix cache holds.\n"
       "# TYPE kantu_prefix_cache_bytes gauge\n"
    << "kantu_prefix_cache_bytes " << s.bytes << "\n"
    << "# HELP kantu_prefix_cache_budget_bytes The prefix cache's bound (--kv-cache-mb).\n"
       "# TYPE kantu_prefix_cache_budget_bytes gauge\n"
    << "kantu_prefix_cache_budget_bytes " << s.budget << "\n"
    << "# HELP kantu_prefix_cache_blocks KV blocks the prefix cache holds.\n"
       "# TYPE kantu_prefix_cache_blocks gauge\n"
    << "kantu_prefix_cache_blocks " << s.blocks << "\n";
  return o.str();
}

std::string Metrics::memory_text() const {
  if (!memory_) return "";
  std::ostringstream o;
  o << "# HELP kantu_memory_limit_bytes The memory plan's total (--max-memory-mb).\n"
       "# TYPE kantu_memory_limit_bytes gauge\n"
    << "kantu_memory_limit_bytes " << memory_->limit() << "\n"
    << "# HELP kantu_memory_fixed_bytes Planned for the model, its buffers, caches and request bodies.\n"
       "# TYPE kantu_memory_fixed_bytes gauge\n"
    << "kantu_memory_fixed_bytes " << memory_->fixed() << "\n"
    << "# HELP kantu_memory_reserved_bytes Reserved by the requests being served.\n"
       "# TYPE kantu_memory_reserved_bytes gauge\n"
    << "kantu_memory_reserved_bytes " << memory_->reserved() << "\n"
    << "# HELP kantu_memory_waits_total Requests that waited for memory.\n"
       "# TYPE kantu_memory_waits_total counter\n"
    << "kantu_memory_waits_total " << memory_->waited() << "\n"
    << "# HELP kantu_memory_refused_total Requests refused for memory (503 or 413).\n"
       "# TYPE kantu_memory_refused_total counter\n"
    << "kantu_memory_refused_total " << memory_->refused() << "\n";
  return o.str();
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream o;
  o << "# HELP kantu_requests_total HTTP requests by endpoint and status code.\n"
       "# TYPE kantu_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    o << "kantu_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second
      << "\"} " << n << "\n";
  }
  o << "# HELP kantu_queue_depth Requests waiting for the engine.\n"
       "# TYPE kantu_queue_depth gauge\n"
    << "kantu_queue_depth " << waiting_ << "\n"
    << "# HELP kantu_active_sequences Sequences being generated.\n"
       "# TYPE kantu_active_sequences gauge\n"
    << "kantu_active_sequences " << active_ << "\n"
    << "# HELP kantu_cancelled_sequences_total Sequences dropped because their client left.\n"
       "# TYPE kantu_cancelled_sequences_total counter\n"
    << "kantu_cancelled_sequences_total " << cancelled_ << "\n"
    << "# HELP kantu_decode_batches_total Batched decode steps (one pass over the weights each).\n"
       "# TYPE kantu_decode_batches_total counter\n"
    << "kantu_decode_batches_total " << decode_batches_ << "\n"
    << "# HELP kantu_decode_batch_sequences_total Sequences advanced by batched decode steps (/ batches = mean batch size).\n"
       "# TYPE kantu_decode_batch_sequences_total counter\n"
    << "kantu_decode_batch_sequences_total " << decode_batch_sequences_ << "\n"
    << "# HELP kantu_prompt_tokens_total Prompt tokens processed (prefill).\n"
       "# TYPE kantu_prompt_tokens_total counter\n"
    << "kantu_prompt_tokens_total " << prompt_tokens_ << "\n"
    << "# HELP kantu_completion_tokens_total Tokens generated.\n"
       "# TYPE kantu_completion_tokens_total counter\n"
    << "kantu_completion_tokens_total " << completion_tokens_ << "\n"
    << "# HELP kantu_image_cache_total Image-embedding cache lookups.\n"
       "# TYPE kantu_image_cache_total counter\n"
    << "kantu_image_cache_total{result=\"hit\"} " << cache_hits_ << "\n"
    << "kantu_image_cache_total{result=\"miss\"} " << cache_misses_ << "\n"
    << memory_text()
    << prefix_cache_text()
    << "# HELP kantu_stage_seconds Latency of each request stage.\n"
       "# TYPE kantu_stage_seconds histogram\n";
  for (int s = 0; s < kNumStages; ++s) {
    const Histogram& h = stages_[s];
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += h.counts[b];
      o << "kantu_stage_seconds_bucket{stage=\"" << stage_name(s) << "\",le=\"";
      if (b < kBuckets.size()) {
        o << kBuckets[b];
      } else {
        o << "+Inf";
      }
      o << "\"} " << cumulative << "\n";
    }
    o << "kantu_stage_seconds_sum{stage=\"" << stage_name(s) << "\"} " << h.sum << "\n";
    o << "kantu_stage_seconds_count{stage=\"" << stage_name(s) << "\"} " << h.count << "\n";
  }
  return o.str();
}

}  // namespace kantu::server
