#include "hub/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace kantu::hub {

namespace {

int open_lock_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  // 0664 like the reference, so users sharing a cache can wait on each other's locks.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
  if (fd < 0) fail(ErrorKind::kInvalidArgument, "cannot open the lock file ", path, ": ", std::strerror(errno));
  return fd;
}

}  // namespace

FileLock::FileLock(const std::string& path, Mode mode, const std::function<void()>& on_wait) {
  fd_ = open_lock_file(path);
  const int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  if (::flock(fd_, op | LOCK_NB) == 0) return;
  if (on_wait) on_wait();
  while (::flock(fd_, op) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    ::close(fd_);
    fail(ErrorKind::kInvalidArgument, "cannot lock ", path, ": ", std::strerror(err));
  }
}

std::unique_ptr<FileLock> FileLock::try_lock(const std::string& path, Mode mode) {
  std::unique_ptr<FileLock> lock(new FileLock());
  lock->fd_ = open_lock_file(path);
  if (::flock(lock->fd_, (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) return nullptr;
  return lock;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace kantu::hub
