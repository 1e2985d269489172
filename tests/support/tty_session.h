// A program driven through a pseudo-terminal, as a person types at it: keys go in,
// everything it prints comes back. For interactive-mode tests (`kantu chat`'s line
// editing and history).
#pragma once

#include <string>
#include <vector>

namespace kantu::test {

class TtySession {
 public:
  explicit TtySession(const std::vector<std::string>& argv);
  ~TtySession();  // kills the program if still running
  TtySession(const TtySession&) = delete;
  TtySession& operator=(const TtySession&) = delete;

  void type(const std::string& keys);
  // Reads until everything printed since the last match contains `text`; false after
  // `timeout_s` seconds or when the program closed the terminal first.
  bool wait_for(const std::string& text, double timeout_s = 60);
  // Everything printed so far.
  const std::string& output() const { return out_; }
  // Waits for the program to end (reading what it still prints); its exit code, or
  // 128 + signal; -1 after `timeout_s` seconds.
  int wait_exit(double timeout_s = 60);

 private:
  bool read_some(int timeout_ms);  // false at end of output
  int master_ = -1;
  int pid_ = -1;
  std::string out_;
  size_t matched_ = 0;  // out_ before this offset has been matched already
};

}  // namespace kantu::test
