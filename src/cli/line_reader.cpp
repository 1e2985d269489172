#include "cli/line_reader.h"

#include <editline/readline.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <iostream>

namespace kantu::cli {

LineReader::LineReader() : interactive_(::isatty(STDIN_FILENO) != 0) {
  // libedit edits multi-byte characters (Chinese questions) only under a UTF-8 locale;
  // LC_CTYPE alone, so numbers keep printing with '.'.
  if (interactive_) std::setlocale(LC_CTYPE, "");
}

std::optional<std::string> LineReader::read(const char* prompt) {
  if (!interactive_) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  char* raw = ::readline(prompt);
  if (!raw) return std::nullopt;
  std::string line(raw);
  std::free(raw);
  if (!line.empty()) ::add_history(line.c_str());
  return line;
}

}  // namespace kantu::cli
