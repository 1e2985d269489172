#include "eval/endpoint_pool.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace kantu::eval {

EndpointPool::EndpointPool(std::vector<std::string> names, EndpointPoolOptions options)
    : options_(options) {
  if (names.empty()) fail(ErrorKind::kInvalidArgument, "no endpoint given");
  for (std::string& n : names) {
    Endpoint e;
    e.stats.name = std::move(n);
    endpoints_.push_back(std::move(e));
  }
}

bool EndpointPool::usable(const Endpoint& e, Clock::time_point now) const {
  if (now < e.usable_from) return false;
  return !e.probing || e.outstanding == 0;
}

EndpointPool::Pick EndpointPool::pick(Clock::time_point now, std::optional<size_t> avoid) {
  std::lock_guard lock(mutex_);
  const size_t n = endpoints_.size();
  std::optional<size_t> best;
  bool best_avoided = false;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (next_ + k) % n;
    const Endpoint& e = endpoints_[i];
    if (!usable(e, now)) continue;
    const bool avoided = avoid && *avoid == i;
    if (!best || (best_avoided && !avoided) ||
        (avoided == best_avoided && e.outstanding < endpoints_[*best].outstanding)) {
      best = i;
      best_avoided = avoided;
    }
  }
  Pick out;
  if (best) {
    Endpoint& e = endpoints_[*best];
    ++e.outstanding;
    ++e.stats.requests;
    next_ = (*best + 1) % n;
    out.index = best;
    return out;
  }
  // Nothing usable: the earliest end of a rest, or a short nap while a probe runs.
  Clock::duration wait = std::chrono::milliseconds(50);
  bool any_resting = false;
  for (const Endpoint& e : endpoints_) {
    if (now < e.usable_from) {
      Clock::duration left = e.usable_from - now;
      wait = any_resting ? std::min(wait, left) : left;
      any_resting = true;
    }
  }
  for (const Endpoint& e : endpoints_) {
    if (now >= e.usable_from) wait = std::min<Clock::duration>(wait, std::chrono::milliseconds(50));
  }
  out.wait = std::max<Clock::duration>(wait, std::chrono::milliseconds(1));
  return out;
}

void EndpointPool::succeeded(size_t index) {
  std::lock_guard lock(mutex_);
  Endpoint& e = endpoints_.at(index);
  --e.outstanding;
  ++e.stats.succeeded;
  e.consecutive_failures = 0;
  e.downs_in_a_row = 0;
  e.probing = false;
}

void EndpointPool::mark_down(size_t index, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  take_out(endpoints_.at(index), now);
}

void EndpointPool::take_out(Endpoint& e, Clock::time_point now) {
  const double seconds = std::min(options_.max_down_seconds,
                                  options_.down_seconds * std::pow(2.0, e.downs_in_a_row));
  e.usable_from = std::max(e.usable_from,
                           now + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds)));
  ++e.downs_in_a_row;
  ++e.stats.times_down;
  e.consecutive_failures = 0;
  e.probing = true;  // when the rest ends, one request tries it first
}

void EndpointPool::failed(size_t index, Clock::time_point now,
                          std::optional<Clock::duration> retry_after) {
  std::lock_guard lock(mutex_);
  Endpoint& e = endpoints_.at(index);
  --e.outstanding;
  ++e.stats.failed;
  ++e.consecutive_failures;
  if (e.probing || e.consecutive_failures >= options_.down_after) take_out(e, now);
  if (retry_after) e.usable_from = std::max(e.usable_from, now + *retry_after);
}

void EndpointPool::released(size_t index) {
  std::lock_guard lock(mutex_);
  Endpoint& e = endpoints_.at(index);
  --e.outstanding;
  // It answered: alive, whatever it thought of the request.
  e.consecutive_failures = 0;
  e.downs_in_a_row = 0;
  e.probing = false;
}

std::vector<EndpointPool::Stats> EndpointPool::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<Stats> out;
  for (const Endpoint& e : endpoints_) out.push_back(e.stats);
  return out;
}

}  // namespace kantu::eval
