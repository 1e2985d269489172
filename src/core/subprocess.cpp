#include "core/subprocess.h"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace kantu {

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& cwd) {
  what_ = argv.empty() ? "" : argv[0];
  char tmpl[] = "/tmp/kantu-child-stderr-XXXXXX";
  int err_fd = mkstemp(tmpl);
  if (err_fd < 0) fail(ErrorKind::kInternal, "cannot create a temporary file for ", what_);
  err_path_ = tmpl;
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0)
    fail(ErrorKind::kInternal, "cannot create pipes for ", what_);
  int status_pipe[2];  // tells the parent whether exec worked
  if (pipe2(status_pipe, O_CLOEXEC) != 0) fail(ErrorKind::kInternal, "pipe2 failed");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) fail(ErrorKind::kInternal, "fork failed for ", what_);
  if (pid_ == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    dup2(err_fd, 2);
    close(to_child[1]);
    close(from_child[0]);
    close(status_pipe[0]);
    int code = 0;
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      code = 1;
    } else {
      execvp(args[0], args.data());
      code = 2;
    }
    (void)!write(status_pipe[1], &code, sizeof(code));
    _exit(127);
  }
  close(err_fd);
  close(to_child[0]);
  close(from_child[1]);
  close(status_pipe[1]);
  in_fd_ = to_child[1];
  out_fd_ = from_child[0];
  int code = 0;
  ssize_t n = read(status_pipe[0], &code, sizeof(code));
  close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(code))) {
    wait();
    fail(ErrorKind::kNotFound, "cannot start '", what_, "'",
         code == 1 ? cat(" in directory ", cwd) : std::string(" (is it installed and in PATH?)"));
  }
}

Subprocess::~Subprocess() {
  if (in_fd_ >= 0) close(in_fd_);
  if (out_fd_ >= 0) close(out_fd_);
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (!err_path_.empty()) unlink(err_path_.c_str());
}

void Subprocess::write_line(const std::string& line) {
  std::string data = line + "\n";
  size_t done = 0;
  auto old = ::signal(SIGPIPE, SIG_IGN);
  while (done < data.size()) {
    ssize_t n = write(in_fd_, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::signal(SIGPIPE, old);
      fail(ErrorKind::kUnsupported, what_, " stopped reading its input: ", stderr_tail());
    }
    done += static_cast<size_t>(n);
  }
  ::signal(SIGPIPE, old);
}

std::string Subprocess::read_line() { return read_line(-1); }

std::string Subprocess::read_line(double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (timeout_s >= 0) {
      const double left = std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      pollfd p{out_fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left * 1000) + 1) == 0)
        fail(ErrorKind::kUnsupported, what_, " wrote no line in ", timeout_s, " s: ", stderr_tail());
    }
    char chunk[4096];
    ssize_t n = read(out_fd_, chunk, sizeof(chunk));
    if (n <= 0) fail(ErrorKind::kUnsupported, what_, " ended unexpectedly: ", stderr_tail());
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void Subprocess::close_stdin() {
  if (in_fd_ >= 0) close(in_fd_);
  in_fd_ = -1;
}

int Subprocess::wait() {
  if (pid_ <= 0) return -1;
  close_stdin();
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void Subprocess::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

bool Subprocess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  pid_ = -1;
  return false;
}

std::string Subprocess::stderr_tail() const {
  std::ifstream in(err_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > 2048) s = "..." + s.substr(s.size() - 2048);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "(no error output)" : s;
}

}  // namespace kantu
