// When generation stops: stop token ids (from generation_config.json), user stop
// strings matched on the decoded text, and the new-token limit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace kantu::runtime {

// Qwen3-VL's generation_config.json: <|im_end|>, <|endoftext|>.
inline const std::vector<int32_t> kDefaultQwenStopIds = {151645, 151643};

// The `eos_token_id` of a parsed generation_config.json (an int or a list of ints);
// kDefaultQwenStopIds when the field is absent. A malformed field is Error(kCorrupt)
// naming `what` (the file).
std::vector<int32_t> stop_ids_from_generation_config(const Json& config, const std::string& what);

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
