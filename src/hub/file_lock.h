// An flock(2) on a lock file, the same lock huggingface_hub's filelock takes on
// .locks/models--ORG--NAME/<etag>.lock, so kantu and the Python tools never write one blob
// at once. Released when the object goes away (or the process dies).
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace kantu::hub {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  // Blocks until the lock is held; `on_wait` is called once if another process holds it.
  FileLock(const std::string& path, Mode mode, const std::function<void()>& on_wait = nullptr);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // The lock if it is free now, else nullptr.
  static std::unique_ptr<FileLock> try_lock(const std::string& path, Mode mode);

 private:
  FileLock() = default;
  int fd_ = -1;
};

}  // namespace kantu::hub
