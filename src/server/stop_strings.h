// Stop strings on a stream of text pieces: text that could be the start of a stop
// string is held back until it is resolved, and the stop string itself (and what
// follows) is never emitted. Used by the fake engine; byte-wise, so a stop string
// split across pieces is still found.
#pragma once

#include <string>
#include <vector>

namespace kantu::server {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Adds a piece; returns the text that is now final. After a match, stopped() is
  // true and further pieces are ignored.
  std::string push(const std::string& piece);
  // The end of generation: releases the held-back text.
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace kantu::server
