// Which of several OpenAI-compatible servers gets the next request, and which of them
// are resting after failures. Used by the endpoint backend from many threads at once.
//
// Choice: least outstanding requests among the usable endpoints (ties go round the
// list), preferring one other than the endpoint a retry just failed on.
// Health: every failure counts; `down_after` failures in a row take an endpoint out for
// a cooldown (doubling each time, up to a cap); when it ends, one probe request is let
// through (half-open) and its success brings the endpoint back, its failure takes it
// out again for longer. A Retry-After from the server keeps the endpoint unused until
// then, whether or not it is down.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kantu::eval {

struct EndpointPoolOptions {
  int down_after = 3;          // consecutive failures that take an endpoint out
  double down_seconds = 2;     // first cooldown
  double max_down_seconds = 30;
};

class EndpointPool {
 public:
  using Clock = std::chrono::steady_clock;

  EndpointPool(std::vector<std::string> names, EndpointPoolOptions options = {});

  struct Pick {
    std::optional<size_t> index;  // the endpoint to use (now counted as outstanding)
    Clock::duration wait{};       // without one: how long until one may be usable
  };
  // `avoid`: the endpoint the previous attempt failed on; used only if it is the only
  // usable one.
  Pick pick(Clock::time_point now, std::optional<size_t> avoid = std::nullopt);
  // Ends a request started by pick(): it succeeded, failed (the endpoint's fault:
  // refused, reset, timeout, 429/5xx; `retry_after` from the reply), or ended in a way
  // with an answer that is not a caption but shows the endpoint alive (a 400 for a bad
  // request).
  void succeeded(size_t index);
  void failed(size_t index, Clock::time_point now,
              std::optional<Clock::duration> retry_after = std::nullopt);
  void released(size_t index);
  // Takes an endpoint out as if it had failed `down_after` times (it did not answer a
  // check before the run).
  void mark_down(size_t index, Clock::time_point now);

  struct Stats {
    std::string name;
    int64_t requests = 0;   // picks
    int64_t succeeded = 0;
    int64_t failed = 0;
    int64_t times_down = 0;  // how often it was taken out
  };
  std::vector<Stats> stats() const;
  size_t size() const { return endpoints_.size(); }
  const std::string& name(size_t index) const { return endpoints_[index].stats.name; }

 private:
  struct Endpoint {
    Stats stats;
    int outstanding = 0;
    int consecutive_failures = 0;
    int downs_in_a_row = 0;       // sets the next cooldown
    bool probing = false;         // half-open: one request at a time until one succeeds
    Clock::time_point usable_from{};  // down or Retry-After until then
  };
  bool usable(const Endpoint& e, Clock::time_point now) const;
  void take_out(Endpoint& e, Clock::time_point now);  // mutex held

  EndpointPoolOptions options_;
  mutable std::mutex mutex_;
  std::vector<Endpoint> endpoints_;
  size_t next_ = 0;  // round-robin start among equally loaded endpoints
};

}  // namespace kantu::eval
