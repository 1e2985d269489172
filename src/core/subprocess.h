// A child process with pipes to its stdin and stdout (stderr goes to a file so that a
// chatty child cannot block). Drives the official METEOR and SPICE jars, and starts
// `kantu serve` replicas for the soak benchmark and the tests.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace kantu {

class Subprocess {
 public:
  // Starts argv[0] (searched in PATH) in directory `cwd`. Throws kNotFound when it
  // cannot be started.
  Subprocess(const std::vector<std::string>& argv, const std::string& cwd);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  void write_line(const std::string& line);  // appends '\n'; throws if the child is gone
  std::string read_line();                   // throws kUnsupported if the child closed stdout
  // As read_line(), but gives up after `timeout_s` (kUnsupported naming the wait).
  std::string read_line(double timeout_s);
  void close_stdin();
  int wait();                     // exit status (128 + signal if killed)
  pid_t pid() const { return pid_; }  // -1 once waited for
  void signal(int sig);           // e.g. SIGKILL; nothing once waited for
  bool running();                 // false once it has exited (it is then reaped)
  std::string stderr_tail() const;  // the last ~2 KB of the child's stderr

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1;
  std::string err_path_;
  std::string buffer_;
  std::string what_;
};

}  // namespace kantu
