#include "server/metrics.h"

#include "runtime/prefix_cache.h"
#include "server/memory_budget.h"

#include <initializer_list>
#include <sstream>
#include <string_view>
#include <utility>

namespace kantu::server {

namespace {

const char* stage_name(int s) {
  static const char* names[kNumStages] = {"queue", "image_encode", "prefill", "decode", "total"};
  return names[s];
}

// The Prometheus text format's pieces: a family's HELP and TYPE lines, then its samples
// ("name{labels} value"; no braces without labels).
void family(std::ostream& o, std::string_view name, std::string_view type, std::string_view help) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

template <typename Value>
void sample(std::ostream& o, std::string_view name, std::string_view labels, const Value& value) {
  o << name;
  if (!labels.empty()) o << "{" << labels << "}";
  o << " " << value << "\n";
}

// A counter or gauge family with one sample, or one per label set.
template <typename Value>
void counter(std::ostream& o, std::string_view name, std::string_view help, const Value& value) {
  family(o, name, "counter", help);
  sample(o, name, "", value);
}
void counter(std::ostream& o, std::string_view name, std::string_view help,
             std::initializer_list<std::pair<std::string_view, int64_t>> samples) {
  family(o, name, "counter", help);
  for (const auto& [labels, value] : samples) sample(o, name, labels, value);
}
template <typename Value>
void gauge(std::ostream& o, std::string_view name, std::string_view help, const Value& value) {
  family(o, name, "gauge", help);
  sample(o, name, "", value);
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

void Metrics::set_image_cache(std::function<CacheUsage()> usage) {
  std::lock_guard lock(mutex_);
  image_cache_usage_ = std::move(usage);
}

std::string Metrics::prefix_cache_text() const {
  if (!prefix_cache_) return "";
  const runtime::PrefixCacheStats s = prefix_cache_->stats();
  std::ostringstream o;
  counter(o, "kantu_prefix_cache_lookups_total",
          "Prefix KV cache lookups: a hit reused at least one token.",
          {{"result=\"hit\"", s.hits}, {"result=\"miss\"", s.misses}});
  counter(o, "kantu_prefix_cache_hit_tokens_total", "Prompt tokens taken from the prefix KV cache.",
          s.hit_tokens);
  counter(o, "kantu_prefix_cache_evictions_total", "KV blocks the prefix cache let go for room.",
          s.evictions);
  gauge(o, "kantu_prefix_cache_bytes", "KV bytes the prefix cache holds.", s.bytes);
  gauge(o, "kantu_prefix_cache_budget_bytes", "The prefix cache's bound (--kv-cache-mb).", s.budget);
  gauge(o, "kantu_prefix_cache_blocks", "KV blocks the prefix cache holds.", s.blocks);
  return o.str();
}

std::string Metrics::memory_text() const {
  if (!memory_) return "";
  std::ostringstream o;
  gauge(o, "kantu_memory_limit_bytes", "The memory plan's total (--max-memory-mb).", memory_->limit());
  gauge(o, "kantu_memory_fixed_bytes", "Planned for the model, its buffers, caches and request bodies.",
        memory_->fixed());
  gauge(o, "kantu_memory_reserved_bytes", "Reserved by the requests being served.", memory_->reserved());
  counter(o, "kantu_memory_waits_total", "Requests that waited for memory.", memory_->waited());
  counter(o, "kantu_memory_refused_total", "Requests refused for memory (503 or 413).", memory_->refused());
  return o.str();
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream o;
  family(o, "kantu_requests_total", "counter", "HTTP requests by endpoint and status code.");
  for (const auto& [key, n] : requests_) {
    sample(o, "kantu_requests_total",
           "endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"", n);
  }
  gauge(o, "kantu_queue_depth", "Requests waiting for the engine.", waiting_);
  gauge(o, "kantu_active_sequences", "Sequences being generated.", active_);
  counter(o, "kantu_cancelled_sequences_total", "Sequences dropped because their client left.", cancelled_);
  counter(o, "kantu_decode_batches_total", "Batched decode steps (one pass over the weights each).",
          decode_batches_);
  counter(o, "kantu_decode_batch_sequences_total",
          "Sequences advanced by batched decode steps (/ batches = mean batch size).",
          decode_batch_sequences_);
  counter(o, "kantu_prompt_tokens_total", "Prompt tokens processed (prefill).", prompt_tokens_);
  counter(o, "kantu_completion_tokens_total", "Tokens generated.", completion_tokens_);
  counter(o, "kantu_image_cache_total", "Image-embedding cache lookups.",
          {{"result=\"hit\"", cache_hits_}, {"result=\"miss\"", cache_misses_}});
  if (image_cache_usage_) {
    const CacheUsage u = image_cache_usage_();
    gauge(o, "kantu_image_cache_bytes", "Bytes the image-embedding cache holds (--cache-mb bounds it).",
          u.bytes);
    gauge(o, "kantu_image_cache_entries", "Image embeddings the cache holds.", u.entries);
  }
  o << memory_text() << prefix_cache_text();
  family(o, "kantu_stage_seconds", "histogram", "Latency of each request stage.");
  for (int s = 0; s < kNumStages; ++s) {
    const Histogram& h = stages_[s];
    const std::string stage = std::string("stage=\"") + stage_name(s) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += h.counts[b];
      std::ostringstream le;
      if (b < kBuckets.size()) {
        le << kBuckets[b];
      } else {
        le << "+Inf";
      }
      sample(o, "kantu_stage_seconds_bucket", stage + ",le=\"" + le.str() + "\"", cumulative);
    }
    sample(o, "kantu_stage_seconds_sum", stage, h.sum);
    sample(o, "kantu_stage_seconds_count", stage, h.count);
  }
  return o.str();
}

}  // namespace kantu::server
