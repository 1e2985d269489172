#include "support/tty_session.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace kantu::test {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TtySession::TtySession(const std::vector<std::string>& argv) {
  winsize size{};
  size.ws_row = 40;
  size.ws_col = 200;  // wide: no line wrapping in what the tests type
  pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error("forkpty failed");
  if (pid_ == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::setenv("TERM", "xterm", 1);
    ::execv(args[0], args.data());
    _exit(127);
  }
}

TtySession::~TtySession() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) ::close(master_);
}

void TtySession::type(const std::string& keys) {
  size_t done = 0;
  while (done < keys.size()) {
    const ssize_t n = ::write(master_, keys.data() + done, keys.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("writing to the terminal failed");
    done += static_cast<size_t>(n);
  }
}

bool TtySession::read_some(int timeout_ms) {
  pollfd p{master_, POLLIN, 0};
  const int ready = ::poll(&p, 1, timeout_ms);
  if (ready <= 0) return ready == 0 || errno == EINTR;  // nothing yet: not the end
  char buf[4096];
  const ssize_t n = ::read(master_, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;  // EIO: the program closed the terminal
  out_.append(buf, static_cast<size_t>(n));
  return true;
}

bool TtySession::wait_for(const std::string& text, double timeout_s) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const size_t at = out_.find(text, matched_);
    if (at != std::string::npos) {
      matched_ = at + text.size();
      return true;
    }
    if (seconds_since(start) > timeout_s || !read_some(100)) return false;
  }
}

int TtySession::wait_exit(double timeout_s) {
  const auto start = std::chrono::steady_clock::now();
  while (seconds_since(start) <= timeout_s) {
    const bool more = read_some(100);
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      for (;;) {  // what it printed last
        const size_t before = out_.size();
        if (!read_some(20) || out_.size() == before) break;
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (!more) {  // terminal closed: the program is ending
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
  return -1;
}

}  // namespace kantu::test
