// One pool of compute threads for the whole process. The calling thread takes part
// in every job, so a pool of N threads uses N-1 workers plus the caller.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
  // and returns when all are done. Not re-entrant: fn must not call parallel_for.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task)>& fn);

  // Splits [0, n) into about size()*grain_per_thread contiguous ranges: fn(begin, end).
  void parallel_ranges(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn,
                       int64_t min_per_range = 1);

  static int hardware_threads();

 private:
  void worker_loop();
  void run_tasks();

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  int active_workers_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

}  // namespace kantu
