// The server's memory plan: fixed parts that do not fit stop the server with every part
// named, a request that could never fit is refused at once (413), one that does not fit
// now waits first come first served and is refused (503) when its wait runs out, and a
// reservation gives its memory back in parts and when dropped.
#include "server/memory_budget.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "core/error.h"

namespace kantu::server {
namespace {

using namespace std::chrono_literals;
constexpr size_t MiB = size_t{1} << 20;

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::kInternal;  // no error: never what a test expects here
}

TEST(MemoryBudget, FixedPartsBeyondTheLimitNameEveryPart) {
  MemoryBudget b(100 * MiB, 0ms);
  b.reserve_fixed("weights", 60 * MiB);
  try {
    b.reserve_fixed("image cache", 50 * MiB);
    FAIL() << "110 MiB of fixed parts fitted in 100";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kTooLarge);
    const std::string m = e.what();
    EXPECT_NE(m.find("weights 60.0 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("image cache 50.0 MiB"), std::string::npos) << m;
    EXPECT_NE(m.find("--max-memory-mb"), std::string::npos) << m;
  }
}

TEST(MemoryBudget, ALimitSetAfterTheFixedPartsMustHoldThemAndLetsWaitersIn) {
  MemoryBudget b(size_t{1} << 40, 5s);
  b.reserve_fixed("weights", 60 * MiB);
  EXPECT_EQ(kind_of([&] { b.set_limit(59 * MiB); }), ErrorKind::kTooLarge);
  b.set_limit(100 * MiB);
  EXPECT_EQ(b.limit(), 100 * MiB);
  EXPECT_EQ(kind_of([&] { b.reserve(41 * MiB, "big"); }), ErrorKind::kTooLarge);
  auto held = b.reserve(30 * MiB, "first");
  // A request that does not fit beside the first goes on as soon as the plan grows.
  auto second = std::async(std::launch::async, [&] { return b.reserve(20 * MiB, "second"); });
  while (b.waited() == 0) std::this_thread::sleep_for(1ms);
  b.set_limit(120 * MiB);
  EXPECT_EQ(second.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(second.get().bytes(), 20 * MiB);
}

TEST(MemoryBudget, ARequestLargerThanTheRoomIsRefusedAtOnce) {
  MemoryBudget b(100 * MiB, 10s);
  b.reserve_fixed("weights", 60 * MiB);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { b.reserve(41 * MiB, "big"); }), ErrorKind::kTooLarge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s) << "it waited for memory that can never come";
  EXPECT_EQ(b.refused(), 1);
  auto r = b.reserve(40 * MiB, "exactly the room");
  EXPECT_EQ(b.reserved(), 40 * MiB);
}

TEST(MemoryBudget, AWaitThatRunsOutIsOverloadedAndLeavesNothingReserved) {
  MemoryBudget b(100 * MiB, 200ms);
  auto held = b.reserve(70 * MiB, "first");
  EXPECT_EQ(kind_of([&] { b.reserve(40 * MiB, "second"); }), ErrorKind::kOverloaded);
  EXPECT_EQ(b.waited(), 1);
  EXPECT_EQ(b.refused(), 1);
  EXPECT_EQ(b.reserved(), 70 * MiB);
  // The refused one left the line: the next fits as soon as there is room.
  auto small = b.reserve(30 * MiB, "third");
  EXPECT_EQ(b.reserved(), 100 * MiB);
}

TEST(MemoryBudget, AWaitingRequestGoesOnWhenMemoryIsGivenBack) {
  MemoryBudget b(100 * MiB, 10s);
  auto held = std::make_unique<MemoryBudget::Reservation>(b.reserve(70 * MiB, "first"));
  auto waiting = std::async(std::launch::async, [&] { return b.reserve(60 * MiB, "second"); });
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  held->release(20 * MiB);  // 50 reserved: still no room for 60
  EXPECT_EQ(waiting.wait_for(200ms), std::future_status::timeout);
  held.reset();  // the rest
  MemoryBudget::Reservation second = waiting.get();
  EXPECT_EQ(second.bytes(), 60 * MiB);
  EXPECT_EQ(b.reserved(), 60 * MiB);
  EXPECT_EQ(b.waited(), 1);
  second = MemoryBudget::Reservation{};  // moved over: gives its memory back
  EXPECT_EQ(b.reserved(), 0u);
}

TEST(MemoryBudget, FirstComeFirstServed) {
  // A large request waiting is not passed by a small one that would fit beside the holder.
  MemoryBudget b(100 * MiB, 10s);
  auto held = std::make_unique<MemoryBudget::Reservation>(b.reserve(50 * MiB, "holder"));
  auto large = std::async(std::launch::async, [&] { return b.reserve(80 * MiB, "large"); });
  while (b.waited() < 1) std::this_thread::sleep_for(5ms);
  auto small = std::async(std::launch::async, [&] { return b.reserve(10 * MiB, "small"); });
  EXPECT_EQ(small.wait_for(200ms), std::future_status::timeout) << "the small one passed the large one";
  held.reset();
  auto l = large.get();
  auto s = small.get();
  EXPECT_EQ(b.reserved(), 90 * MiB);
}

}  // namespace
}  // namespace kantu::server
