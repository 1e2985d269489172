// Incremental detokenization for streamed answers: push token ids one at a time and get
// back only complete UTF-8 text. A character whose bytes are split across tokens (CJK,
// emoji) is held back until its last byte arrives; bytes that can never become valid are
// replaced by U+FFFD exactly as Tokenizer::decode would (including the leading space a
// SentencePiece tokenizer drops). The concatenation of all push() results and flush()
// equals decode(all known ids).
// Not thread-safe: one decoder per sequence. The tokenizer must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "text/tokenizer.h"

namespace kantu::text {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tokenizer_(&tokenizer), skip_special_(skip_special) {}

  // Returns the text that became complete with this token (often empty or one token's text).
  // Ids the tokenizer does not know (the padded rows of a model's output layer) add no text.
  std::string push(int32_t id);
  // Returns whatever is still held back (an unfinished sequence becomes U+FFFD) and resets.
  std::string flush();

 private:
  // Drops the leading space of the first text, when the tokenizer's decode does.
  std::string emit(std::string text);

  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool at_start_ = true;  // nothing emitted yet
  std::string pending_;   // bytes of regular tokens not yet emitted
};

}  // namespace kantu::text
