// The queue and the one engine loop (continuous batching). HTTP threads submit
// prepared sequences and wait on their Job; a single engine thread admits up to
// `parallel` sequences from a bounded FIFO queue. Each loop iteration:
//   1. drops cancelled sequences (their client went away),
//   2. advances the prefill of at most ONE admitted sequence, the oldest, by one piece
//      (Sequence::step(): the engine decides the piece: the vision tower, or a chunk of
//      the prompt; the piece that ends the prefill samples the first token),
//   3. advances every other decoding sequence by one token with ONE
//      Engine::step_batch() call: one pass over the weights for all of them.
// So a long prompt (chunked prefill, server/prefill_pacer.h) or a burst of new requests
// stalls the running streams by one piece at a time, with a token in between.
//
// Thread contract: submit(), Job::wait(), Job::cancel() from any thread;
// Sequence::step() and Engine::step_batch() only on the engine thread; shutdown()
// from one thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/timer.h"
#include "server/engine.h"
#include "server/metrics.h"

namespace kantu::server {

class Scheduler;

// One submitted request as its HTTP thread sees it.
class Job {
 public:
  struct Update {
    std::string text;  // newly final text since the previous wait()
    bool done = false;
    std::optional<Error> error;  // set with done when generation failed
  };

  // Waits up to `timeout` for new text or the end; returns what arrived (possibly nothing).
  Update wait(std::chrono::milliseconds timeout);
  // The client went away: the engine drops the sequence at its next turn.
  void cancel();
  bool cancelled() const;
  // True once the first token exists (prefill done) or the job ended.
  bool generating() const;
  // Valid once wait() reported done.
  SequenceStats stats() const;
  double queue_ms() const;

 private:
  friend class Scheduler;
  Engine* engine_ = nullptr;              // made sequence_; runs its batched steps
  std::unique_ptr<Sequence> sequence_;  // engine thread only; released when done
  Timer since_submit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string pending_;
  bool done_ = false;
  bool cancelled_ = false;
  bool generating_ = false;
  std::optional<Error> error_;
  SequenceStats stats_;
  double queue_ms_ = 0;
};

class Scheduler {
 public:
  struct Options {
    int parallel = 4;    // sequences generated at once
    int max_queue = 16;  // waiting sequences beyond that; more is refused (503)
  };
  Scheduler(Options options, Metrics& metrics);
  ~Scheduler();  // shutdown()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a sequence prepared by `engine` (which must outlive the job). Throws
  // Error(kOverloaded) when the queue is full or the scheduler is shutting down.
  std::shared_ptr<Job> submit(Engine& engine, std::unique_ptr<Sequence> sequence);
  // Refuses new work, finishes everything queued and active, stops the engine thread.
  void shutdown();

  int64_t waiting() const;
  int64_t active() const;

 private:
  void loop();
  void admit();
  void drop_cancelled();
  void prefill(Job& job);
  void decode_step(Job* skip);
  // Hands a step's text to the waiting HTTP thread; ends the job when it finished.
  void deliver(Job& job, const std::string& text);
  void finish(Job& job, std::optional<Error> error);
  void publish_depth();

  Options options_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::shared_ptr<Job>> active_;  // engine thread owns the vector's contents
  int64_t n_active_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kantu::server
