#include "core/thread_pool.h"

#include <algorithm>

namespace kantu {
namespace {

// A polite busy-wait step: lets the sibling hyper-thread run and saves power.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or `budget` has passed; true if done() became true.
template <class Done>
bool spin_until(Done done, std::chrono::microseconds budget) {
  const auto until = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

}  // namespace

int ThreadPool::hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads > 0 ? n_threads : hardware_threads()) {
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(Job& job) {
  for (;;) {
    const int64_t task = job.next.fetch_add(1, std::memory_order_relaxed);
    if (task >= job.n_tasks) return;
    try {
      (*job.fn)(task);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.error_mutex);
      if (!job.error) job.error = std::current_exception();
    }
    job.done.fetch_add(1, std::memory_order_release);
  }
}

bool ThreadPool::wait_for_generation(uint64_t seen) {
  const auto moved = [&] { return stopping_.load() || generation_.load() != seen; };
  if (!spin_until(moved, kSpin)) {
    std::unique_lock<std::mutex> lock(sleep_mutex_);
    // sleepers_ before the check (both sequentially consistent): a caller that bumps the
    // generation after our check sees sleepers_ > 0 and notifies under the mutex.
    sleepers_.fetch_add(1);
    wake_.wait(lock, moved);
    sleepers_.fetch_sub(1);
  }
  return !stopping_.load();
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (wait_for_generation(seen)) {
    seen = generation_.load();
    // Announce the use before reading the job: a caller that has withdrawn its job and
    // then sees users_ == 0 knows no worker can still reach it (seq_cst on both sides).
    users_.fetch_add(1);
    if (Job* job = current_.load()) run_tasks(*job);
    users_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  std::lock_guard<std::mutex> call(call_mutex_);
  Job job;
  job.fn = &fn;
  job.n_tasks = n_tasks;
  current_.store(&job);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    wake_.notify_all();
  }
  run_tasks(job);
  // The last tasks may still run on workers; then no worker may keep a pointer to the job.
  const auto all_done = [&] { return job.done.load(std::memory_order_acquire) == n_tasks; };
  while (!spin_until(all_done, std::chrono::microseconds(50))) std::this_thread::yield();
  current_.store(nullptr);
  const auto no_users = [&] { return users_.load() == 0; };
  while (!spin_until(no_users, std::chrono::microseconds(50))) std::this_thread::yield();
  if (job.error) std::rethrow_exception(job.error);
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
