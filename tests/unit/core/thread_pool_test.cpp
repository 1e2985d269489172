#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kantu {
namespace {

TEST(ThreadPool, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int rep = 0; rep < 200; ++rep) {
      std::vector<std::atomic<int>> hits(97);
      pool.parallel_for(97, [&](int64_t i) { hits[i].fetch_add(1); });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, ATaskThatThrowsReachesTheCallerAfterTheOthersRan) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    std::atomic<int> ran{0};
    EXPECT_THROW(pool.parallel_for(50, [&](int64_t i) {
      ran.fetch_add(1);
      if (i == 7) throw std::runtime_error("task 7");
    }), std::runtime_error);
    EXPECT_EQ(ran.load(), threads == 1 ? 8 : 50);
    // The pool is still usable.
    std::atomic<int> again{0};
    pool.parallel_for(10, [&](int64_t) { again.fetch_add(1); });
    EXPECT_EQ(again.load(), 10);
  }
}

TEST(ThreadPool, WorkersThatFellAsleepWakeForTheNextJob) {
  ThreadPool pool(2);
  for (int rep = 0; rep < 3; ++rep) {
    std::this_thread::sleep_for(ThreadPool::kSpin * 4);  // the worker is asleep now
    // Each task waits until both threads have entered one: a lost wake-up leaves the
    // caller alone, and the wait runs out.
    std::mutex m;
    std::set<std::thread::id> threads;
    std::atomic<bool> timed_out{false};
    pool.parallel_for(2, [&](int64_t) {
      { std::lock_guard lock(m); threads.insert(std::this_thread::get_id()); }
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      for (;;) {
        { std::lock_guard lock(m); if (threads.size() == 2) return; }
        if (std::chrono::steady_clock::now() > until) { timed_out = true; return; }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
    EXPECT_FALSE(timed_out.load()) << "the sleeping worker did not wake for the job";
  }
}

TEST(ThreadPool, CallsFromSeveralThreadsTakeTurns) {
  ThreadPool pool(2);
  std::vector<std::thread> callers;
  std::atomic<int64_t> sum{0};
  for (int c = 0; c < 3; ++c)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 100; ++rep) pool.parallel_for(16, [&](int64_t i) { sum.fetch_add(i); });
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(sum.load(), 3 * 100 * (15 * 16 / 2));
}

TEST(ThreadPool, RangesCoverTheWholeInterval) {
  ThreadPool pool(4);
  for (int64_t n : {1, 5, 64, 1001}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_ranges(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
    }, 7);
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

}  // namespace
}  // namespace kantu
