#include "core/run_child.h"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"

extern char** environ;

namespace kantu {

ChildResult run_child(const std::vector<std::string>& argv) {
  if (argv.empty()) fail(ErrorKind::kInvalidArgument, "run_child: no program");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), nullptr, nullptr, args.data(), environ);
  if (rc != 0) fail(ErrorKind::kNotFound, "cannot start ", argv[0], ": ", std::strerror(rc));
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) fail(ErrorKind::kInternal, "waiting for ", argv[0], ": ", std::strerror(errno));
  }
  ChildResult out;
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  return out;
}

std::string self_executable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail(ErrorKind::kInternal, "cannot find this program's path: ", ec.message());
  return path.string();
}

}  // namespace kantu
