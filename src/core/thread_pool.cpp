#include "core/thread_pool.h"

#include <algorithm>

namespace kantu {

int ThreadPool::hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : hardware_threads()) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks() {
  for (;;) {
    int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= n_tasks_) return;
    (*job_)(task);
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++active_workers_;
    }
    run_tasks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_workers_ == 0) done_.notify_all();
    }
  }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // A worker that woke late for the previous job may still be checking the old
    // counter; the job state changes only while no worker is active.
    done_.wait(lock, [&] { return active_workers_ == 0; });
    job_ = &fn;
    n_tasks_ = n_tasks;
    next_task_.store(0, std::memory_order_relaxed);
    ++generation_;
  }
  wake_.notify_all();
  run_tasks();
  std::unique_lock<std::mutex> lock(mutex_);
  // Workers that woke for this generation finish their last task before we return;
  // a worker that has not woken yet finds no tasks left and never touches job_.
  done_.wait(lock, [&] { return active_workers_ == 0; });
  job_ = nullptr;
  n_tasks_ = 0;
}

void ThreadPool::parallel_ranges(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                                 int64_t min_per_range) {
  if (n <= 0) return;
  int64_t ranges = std::min<int64_t>(n_threads_ * 4, (n + min_per_range - 1) / min_per_range);
  ranges = std::max<int64_t>(ranges, 1);
  int64_t per = (n + ranges - 1) / ranges;
  parallel_for((n + per - 1) / per, [&](int64_t r) { fn(r * per, std::min(n, (r + 1) * per)); });
}

}  // namespace kantu
