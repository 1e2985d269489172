// Where `kantu chat` reads the user's lines: with line editing and history (libedit's
// readline) when stdin is a terminal, else plain lines from stdin, one turn per line,
// so a chat can be scripted.
#pragma once

#include <optional>
#include <string>

namespace kantu::cli {

class LineReader {
 public:
  LineReader();
  bool interactive() const { return interactive_; }
  // The next line without its newline; nullopt at end of input (Ctrl-D, EOF).
  // `prompt` is shown only on a terminal.
  std::optional<std::string> read(const char* prompt);

 private:
  bool interactive_;
};

}  // namespace kantu::cli
