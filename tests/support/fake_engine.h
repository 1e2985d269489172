// A deterministic stand-in for the model, for the HTTP server's unit tests only (it is
// not in the kantu binary; e2e tests and the page's browser test use the tiny real
// models). It never loads weights: the "answer" echoes the last user text and, when an
// image is attached, ends with a Qwen-style grounding box. It honours max_tokens, stop
// strings, the context limit, the image cache (4096 bytes an image token) and a
// per-token delay, like the real engine; a batched step (step_batch) costs one delay
// whatever its size, like the real model's memory-bound decode. A user text containing "__fail__" makes the third step
// throw, to exercise mid-generation failures. hold_steps() parks every decode step until
// release_steps(), so a test can keep a sequence running for as long as it needs (a
// token delay only makes that likely, and a loaded machine breaks "likely").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "server/engine.h"
#include "server/lru_cache.h"

namespace kantu::server {

class FakeEngine : public Engine {
 public:
  struct Options {
    int64_t context_length = 4096;
    int token_delay_ms = 0;         // sleep per generated token
    int image_encode_ms = 20;       // sleep per image not found in the cache
    int default_max_tokens = 512;
    size_t cache_bytes = 64u << 20;
  };
  explicit FakeEngine(Options options);

  std::string model_id() const override { return "kantu-fake"; }
  int64_t context_length() const override { return options_.context_length; }
  std::unique_ptr<Sequence> prepare(const ChatRequest& request) override;
  std::optional<CacheUsage> image_cache_usage() const override { return cache_.usage(); }
  std::vector<StepResult> step_batch(std::span<Sequence* const> seqs) override;

  // Decode batches so far and the most sequences one of them held (for tests).
  size_t batches() const { return batches_.load(); }
  size_t largest_batch() const { return largest_batch_.load(); }

  // The fake's token count for an image under a pixel budget (0 = default).
  static int image_tokens(int64_t max_pixels);

  // While held, a step waits (before producing its token) until release_steps(). Release
  // before the server shuts down: its engine thread may be parked here.
  void hold_steps();
  void release_steps();
  // Steps parked right now (a test waits for 1 to know its sequence is mid-generation).
  int parked_steps() const;

  // Called by every step before it produces a token.
  void wait_while_held();

 private:
  Options options_;
  mutable std::mutex hold_mutex_;
  std::condition_variable hold_cv_;
  bool held_ = false;
  int parked_ = 0;
  LruCache<int> cache_;  // image key -> its token count ("embedding")
  std::atomic<size_t> batches_{0};
  std::atomic<size_t> largest_batch_{0};
};

}  // namespace kantu::server
