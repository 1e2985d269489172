#include "server/memory_budget.h"

#include <algorithm>
#include <cstdio>

#include "core/error.h"

namespace kantu::server {

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
  return buf;
}

MemoryBudget::MemoryBudget(size_t limit_bytes, std::chrono::milliseconds wait)
    : limit_(limit_bytes), wait_(wait) {}

void MemoryBudget::reserve_fixed(const std::string& what, size_t bytes) {
  std::lock_guard lock(mutex_);
  fixed_parts_.emplace_back(what, bytes);
  fixed_ += bytes;
  check_fixed_fit();
}

void MemoryBudget::set_limit(size_t limit_bytes) {
  {
    std::lock_guard lock(mutex_);
    limit_ = limit_bytes;
    check_fixed_fit();
  }
  freed_.notify_all();  // a larger plan may let a waiting request in
}

void MemoryBudget::check_fixed_fit() const {
  if (fixed_ <= limit_) return;
  std::string parts;
  for (const auto& [name, n] : fixed_parts_) parts += cat(parts.empty() ? "" : ", ", name, " ", mib(n));
  fail(ErrorKind::kTooLarge, "the memory the server needs before any request (", parts,
       ") exceeds --max-memory-mb (", mib(limit_), ")");
}

size_t MemoryBudget::limit() const {
  std::lock_guard lock(mutex_);
  return limit_;
}

size_t MemoryBudget::fixed() const {
  std::lock_guard lock(mutex_);
  return fixed_;
}

size_t MemoryBudget::reserved() const {
  std::lock_guard lock(mutex_);
  return reserved_;
}

std::vector<std::pair<std::string, size_t>> MemoryBudget::fixed_parts() const {
  std::lock_guard lock(mutex_);
  return fixed_parts_;
}

int64_t MemoryBudget::waited() const {
  std::lock_guard lock(mutex_);
  return waited_;
}

int64_t MemoryBudget::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

MemoryBudget::Reservation MemoryBudget::reserve(size_t bytes, const std::string& what) {
  std::unique_lock lock(mutex_);
  const size_t room = limit_ - fixed_;
  if (bytes > room) {
    ++refused_;
    fail(ErrorKind::kTooLarge, what, " needs ", mib(bytes), " of memory, more than the ", mib(room),
         " this server has for requests (--max-memory-mb ", mib(limit_), " less ", mib(fixed_),
         " for the model and its buffers)");
  }
  // First come, first served: a large request is not passed by a stream of small ones.
  const uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  // The room is read afresh on every wake-up: the plan may have grown meanwhile (set_limit).
  const auto my_turn = [&] { return queue_.front() == ticket && reserved_ + bytes <= limit_ - fixed_; };
  if (!my_turn()) {
    ++waited_;
    if (!freed_.wait_for(lock, wait_, my_turn)) {
      queue_.remove(ticket);
      ++refused_;
      freed_.notify_all();  // the next in line may fit
      fail(ErrorKind::kOverloaded, "the server's memory is taken by other requests (", mib(reserved_),
           " of ", mib(limit_ - fixed_), "); ", what, " needs ", mib(bytes), ", retry later");
    }
  }
  queue_.pop_front();
  reserved_ += bytes;
  freed_.notify_all();  // the next in line may fit too
  Reservation r;
  r.budget_ = this;
  r.bytes_ = bytes;
  return r;
}

void MemoryBudget::give_back(size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    reserved_ -= bytes;
  }
  freed_.notify_all();
}

MemoryBudget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(other.budget_), bytes_(other.bytes_) {
  other.budget_ = nullptr;
  other.bytes_ = 0;
}

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    if (budget_ && bytes_) budget_->give_back(bytes_);
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    other.budget_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

MemoryBudget::Reservation::~Reservation() {
  if (budget_ && bytes_) budget_->give_back(bytes_);
}

void MemoryBudget::Reservation::release(size_t bytes) {
  bytes = std::min(bytes, bytes_);
  if (budget_ && bytes) budget_->give_back(bytes);
  bytes_ -= bytes;
}

}  // namespace kantu::server
