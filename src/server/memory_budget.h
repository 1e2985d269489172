// The server's memory plan (--max-memory-mb): what it may allocate in all, parts fixed at
// start (the weights as they run, the model's own buffers, the caches' budgets, the
// bodies of the requests being read), and a reservation per request for everything it
// will allocate (its decoded images, their preprocessing and vision encoding, its KV
// cache). A request is admitted only when its reservation fits beside the others: it
// waits its turn (first come, first served) up to a limit, then is refused with 503 +
// Retry-After; one that could never fit, even alone, is refused with 413. So the process
// stays within the plan, and the kernel's out-of-memory killer never has to choose.
//
// Thread-safe: HTTP threads reserve, the engine thread releases (a request's
// reservation lives in its sequence).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kantu::server {

class MemoryBudget {
 public:
  // limit_bytes: the plan's total; wait: how long a request may wait for memory.
  MemoryBudget(size_t limit_bytes, std::chrono::milliseconds wait);

  // A part held for the server's lifetime. Throws Error(kTooLarge) when the fixed parts
  // alone exceed the limit, naming every part (the server then does not start).
  void reserve_fixed(const std::string& what, size_t bytes);

  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    ~Reservation();
    size_t bytes() const { return bytes_; }
    // Gives back part of it (e.g. an image's buffers once it is encoded).
    void release(size_t bytes);

   private:
    friend class MemoryBudget;
    MemoryBudget* budget_ = nullptr;
    size_t bytes_ = 0;
  };

  // Reserves `bytes` for one request, waiting its turn. Error(kTooLarge) when it cannot
  // fit even with no other request, Error(kOverloaded) when it did not fit in time.
  // `what` describes the request's needs for those messages.
  Reservation reserve(size_t bytes, const std::string& what);

  // Sets the plan's total, e.g. to exactly the fixed parts plus a room for requests once
  // the fixed parts are known. Throws Error(kTooLarge) like reserve_fixed when they exceed it.
  void set_limit(size_t limit_bytes);

  size_t limit() const;
  size_t fixed() const;
  size_t reserved() const;  // by requests, now
  // The fixed parts, in the order reserved.
  std::vector<std::pair<std::string, size_t>> fixed_parts() const;
  int64_t waited() const;   // requests that had to wait
  int64_t refused() const;  // requests refused for memory (503 or 413)

 private:
  void give_back(size_t bytes);
  void check_fixed_fit() const;  // under mutex_

  size_t limit_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::pair<std::string, size_t>> fixed_parts_;
  size_t fixed_ = 0;
  size_t reserved_ = 0;
  std::list<uint64_t> queue_;  // waiting requests, oldest first
  uint64_t next_ticket_ = 0;
  int64_t waited_ = 0, refused_ = 0;
};

// "123.4 MiB"
std::string mib(size_t bytes);

}  // namespace kantu::server
