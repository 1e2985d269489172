// The queue and the one engine loop. HTTP threads submit prepared sequences and wait
// on their Job; a single engine thread admits up to `parallel` sequences from a
// bounded FIFO queue and advances the active ones one token each in turn
// (round-robin), so many streams progress together. The model API has no batched
// decode step yet, so each step is its own forward pass; swapping in a batched step
// only changes loop().
//
// Thread contract: submit(), Job::wait(), Job::cancel() from any thread;
// Sequence::step() only on the engine thread; shutdown() from one thread.
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
  // Valid once wait() reported done.
  SequenceStats stats() const;
  double queue_ms() const;

 private:
  friend class Scheduler;
  std::unique_ptr<Sequence> sequence_;  // engine thread only; released when done
  Timer since_submit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string pending_;
  bool done_ = false;
  bool cancelled_ = false;
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

  // Queues a prepared sequence. Throws Error(kOverloaded) when the queue is full or
  // the scheduler is shutting down.
  std::shared_ptr<Job> submit(std::unique_ptr<Sequence> sequence);
  // Refuses new work, finishes everything queued and active, stops the engine thread.
  void shutdown();

  int64_t waiting() const;
  int64_t active() const;

 private:
  void loop();
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
