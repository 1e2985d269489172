// When generation stops on text: user stop strings matched on the decoded text. (Stop
// token ids are the model's: Model::eos_ids; the new-token limit is the loop's.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kantu::runtime {

// Matches stop strings on streamed text, across token boundaries. push() returns the
// text that is safe to show now: text that could still be the start of a stop string
// is held back until the next piece resolves it. When a stop string appears, the
// text before it is released, the stop string and anything after it are dropped, and
// stopped() becomes true.
class StopStringMatcher {
 public:
  // Empty stop strings are Error(kInvalidArgument).
  explicit StopStringMatcher(std::vector<std::string> stops);

  std::string push(std::string_view piece);
  // End of generation (token limit, EOS): releases what was held back.
  std::string flush();

  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }  // the stop string that fired

 private:
  std::vector<std::string> stops_;
  std::string held_;  // not yet shown: a suffix that is a prefix of some stop string
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace kantu::runtime
