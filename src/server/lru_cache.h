// A thread-safe least-recently-used cache bounded by total bytes, for image
// embeddings: key = hash of the image bytes + the pixel budget, value = the vision
// tower's output. Values are shared_ptr<const V>, so an entry evicted while a
// sequence still uses it stays alive until that sequence lets go.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/content_hash.h"

namespace kantu::server {

// What a cache holds at one moment (for /metrics).
struct CacheUsage {
  size_t bytes = 0;
  size_t entries = 0;
};

template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const V> get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    entries_.splice(entries_.begin(), entries_, it->second);  // now most recent
    return it->second->value;
  }

  // Inserts or replaces; evicts the least recently used entries beyond the capacity.
  // An entry larger than the whole capacity is not stored.
  void put(const std::string& key, std::shared_ptr<const V> value, size_t bytes) {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      used_ -= it->second->bytes;
      entries_.erase(it->second);
      index_.erase(it);
    }
    if (bytes > capacity_) return;
    entries_.push_front({key, std::move(value), bytes});
    index_[key] = entries_.begin();
    used_ += bytes;
    while (used_ > capacity_) {
      Entry& last = entries_.back();
      used_ -= last.bytes;
      index_.erase(last.key);
      entries_.pop_back();
    }
  }

  size_t bytes_used() const {
    std::lock_guard lock(mutex_);
    return used_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  // Both under one lock, so a scrape never pairs one moment's bytes with another's count.
  CacheUsage usage() const {
    std::lock_guard lock(mutex_);
    return {used_, entries_.size()};
  }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const V> value;
    size_t bytes;
  };
  size_t capacity_;
  size_t used_ = 0;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recent first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

using kantu::content_hash;  // image keys: core/content_hash.h

}  // namespace kantu::server
