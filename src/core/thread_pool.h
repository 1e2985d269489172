// One pool of compute threads for the whole process. The calling thread takes part
// in every job, so a pool of N threads uses N-1 workers plus the caller.
//
// Decode calls the pool a few hundred times per token (every matmul, each a few tens of
// microseconds of work), so handing out a job must cost far less than a futex wake-up:
// between jobs a worker spins for a short while (kSpin) watching for the next one, and
// only then sleeps on a condition variable; the caller waits for the last task the same
// way. An idle pool sleeps, so a server between requests uses no CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kantu {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // n_threads <= 0: one per core
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(task) for task in [0, n_tasks), spread dynamically over the threads,
  // and returns when all are done; if a task threw, the first exception is rethrown here
  // (the other tasks still run). fn must not call parallel_for on the same pool;
  // calls from different threads take turns.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task)>& fn);

  // Splits [0, n) into about size()*grain_per_thread contiguous ranges: fn(begin, end).
  void parallel_ranges(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn,
                       int64_t min_per_range = 1);

  static int hardware_threads();

  // How long a worker watches for the next job before it sleeps.
  static constexpr std::chrono::microseconds kSpin{300};

 private:
  // One parallel_for call; lives on the caller's stack until no worker uses it.
  struct Job {
    const std::function<void(int64_t)>* fn = nullptr;
    int64_t n_tasks = 0;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex error_mutex;
    std::exception_ptr error;  // the first task that threw; rethrown on the caller
  };

  void worker_loop();
  static void run_tasks(Job& job);
  bool wait_for_generation(uint64_t seen);  // false: stopping

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::atomic<Job*> current_{nullptr};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> users_{0};     // workers that may be reading *current_
  std::atomic<int> sleepers_{0};  // workers asleep (or about to be) on wake_
  std::atomic<bool> stopping_{false};
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
};

}  // namespace kantu
