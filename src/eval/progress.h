// Progress of a long run on stderr: a redrawn bar with rate and ETA on a terminal,
// plain periodic lines (every 10% or 30 s) when stderr is a file or pipe.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

#include "core/timer.h"

namespace kantu::eval {

class Progress {
 public:
  // `already` items were done before (a resumed run); the rate counts only new ones.
  Progress(std::string label, size_t total, size_t already, std::FILE* out = stderr);
  void advance();  // one more item done
  void finish();   // final line
  // The text of the bar/line for `done` items after `seconds` (exposed for tests).
  static std::string format(const std::string& label, size_t done, size_t total, size_t already,
                            double seconds, bool terminal);

 private:
  void draw(bool force);
  std::string label_;
  size_t total_, already_, done_;
  std::FILE* out_;
  bool terminal_;
  Timer timer_;
  double last_print_s_ = -1;
  size_t last_print_done_ = 0;
};

}  // namespace kantu::eval
