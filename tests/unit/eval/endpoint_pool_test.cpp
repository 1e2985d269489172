// EndpointPool: least outstanding requests, avoiding the endpoint a retry failed on,
// taking endpoints out after failures in a row (doubling rests, one probe after each),
// and honouring Retry-After. Time is passed in, so every step is exact.
#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/endpoint_pool.h"

namespace kantu::eval {
namespace {

using Clock = EndpointPool::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

EndpointPoolOptions pool_options() {
  EndpointPoolOptions o;
  o.down_after = 3;
  o.down_seconds = 2;
  o.max_down_seconds = 5;
  return o;
}

TEST(EndpointPool, PicksTheLeastOutstanding) {
  EndpointPool pool({"a", "b", "c"}, pool_options());
  const Clock::time_point t0{};
  std::vector<size_t> first;
  for (int i = 0; i < 3; ++i) first.push_back(*pool.pick(t0).index);
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<size_t>{0, 1, 2}));  // one each before any gets a second
  pool.succeeded(1);                                  // b is free again
  EXPECT_EQ(*pool.pick(t0).index, 1u);
  pool.succeeded(0);
  pool.succeeded(2);
  EXPECT_NE(*pool.pick(t0).index, 1u);  // b still has one in flight
}

TEST(EndpointPool, ARetryAvoidsTheEndpointThatFailedWhenItCan) {
  EndpointPool pool({"a", "b"}, pool_options());
  const Clock::time_point t0{};
  for (int i = 0; i < 10; ++i) {
    auto p = pool.pick(t0, size_t{0});
    ASSERT_TRUE(p.index);
    EXPECT_EQ(*p.index, 1u);
    pool.succeeded(*p.index);
  }
  EndpointPool single({"a"}, pool_options());
  EXPECT_EQ(*single.pick(t0, size_t{0}).index, 0u);  // the only one is still used
}

TEST(EndpointPool, FailuresInARowTakeAnEndpointOutThenOneProbeBringsItBack) {
  EndpointPool pool({"a", "b"}, pool_options());
  Clock::time_point t{};
  auto fail_a = [&] {
    auto p = pool.pick(t, size_t{1});  // prefer a
    ASSERT_EQ(*p.index, 0u);
    pool.failed(0, t);
  };
  fail_a();
  fail_a();
  pool.succeeded(*pool.pick(t, size_t{1}).index);  // a success resets the count
  fail_a();
  fail_a();
  fail_a();  // third in a row: out for 2 s
  EXPECT_EQ(pool.stats()[0].times_down, 1);
  for (int i = 0; i < 5; ++i) {
    auto p = pool.pick(t + milliseconds(1900), size_t{1});
    EXPECT_EQ(*p.index, 1u);  // even though b is the one to avoid
    pool.succeeded(1);
  }
  t += seconds(2);
  // Half-open: one probe at a time.
  auto probe = pool.pick(t, size_t{1});
  ASSERT_EQ(*probe.index, 0u);
  EXPECT_EQ(*pool.pick(t, size_t{1}).index, 1u);
  pool.succeeded(1);
  pool.failed(0, t);  // the probe fails: out again, for twice as long
  EXPECT_EQ(pool.stats()[0].times_down, 2);
  EXPECT_EQ(*pool.pick(t + milliseconds(3900), size_t{1}).index, 1u);
  pool.succeeded(1);
  t += seconds(4);
  probe = pool.pick(t, size_t{1});
  ASSERT_EQ(*probe.index, 0u);
  pool.succeeded(0);  // back
  auto p1 = pool.pick(t, size_t{1});
  auto p2 = pool.pick(t, size_t{1});
  EXPECT_EQ(*p1.index, 0u);
  EXPECT_EQ(*p2.index, 0u);  // a is no longer limited to one request
}

TEST(EndpointPool, RestsAreCappedAndWaitsSayHowLong) {
  EndpointPool pool({"a"}, pool_options());
  Clock::time_point t{};
  for (int i = 0; i < 3; ++i) {
    pool.pick(t);
    pool.failed(0, t);
  }
  auto none = pool.pick(t + milliseconds(500));
  EXPECT_FALSE(none.index);
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(none.wait).count(), 1500);
  for (int k = 0; k < 4; ++k) {  // probes keep failing: 4 s, then the 5 s cap
    t += seconds(5);
    ASSERT_TRUE(pool.pick(t).index);
    pool.failed(0, t);
  }
  EXPECT_FALSE(pool.pick(t + milliseconds(4999)).index);
  EXPECT_TRUE(pool.pick(t + seconds(5)).index);
}

TEST(EndpointPool, RetryAfterKeepsTheEndpointUnused) {
  EndpointPool pool({"a", "b"}, pool_options());
  Clock::time_point t{};
  pool.pick(t, size_t{1});
  pool.failed(0, t, seconds(3));  // one failure: not down, but asked to wait 3 s
  EXPECT_EQ(pool.stats()[0].times_down, 0);
  for (int i = 0; i < 4; ++i) {
    auto p = pool.pick(t + milliseconds(2999));
    EXPECT_EQ(*p.index, 1u);
  }
  EXPECT_EQ(*pool.pick(t + seconds(3)).index, 0u);
}

TEST(EndpointPool, AnswerThatIsNotACaptionStillShowsTheEndpointAlive) {
  EndpointPool pool({"a"}, pool_options());
  Clock::time_point t{};
  for (int i = 0; i < 2; ++i) {
    pool.pick(t);
    pool.failed(0, t);
  }
  pool.pick(t);
  pool.released(0);  // a 400: alive
  for (int i = 0; i < 2; ++i) {
    pool.pick(t);
    pool.failed(0, t);
  }
  EXPECT_TRUE(pool.pick(t).index);  // only two in a row since the 400
  EXPECT_EQ(pool.stats()[0].times_down, 0);
  EXPECT_THROW(EndpointPool({}, pool_options()), Error);
}

}  // namespace
}  // namespace kantu::eval
