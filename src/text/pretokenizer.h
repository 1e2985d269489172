// The regex pre-tokenizer: splits normalized text into "words" (pre-tokens) that BPE then
// encodes one by one. Qwen2's pattern needs Unicode properties (\p{L}, \p{N}) and a
// lookahead (\s+(?!\S)), so it runs on PCRE2 with UTF + UCP, JIT-compiled when possible.
// Like Python's re.findall, every non-overlapping match in order is a word.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kantu::text {

// The Qwen2 / Qwen2.5 / Qwen3 pre-tokenizer pattern (tokenizer.json "Split" regex).
inline constexpr std::string_view kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

class Pretokenizer {
 public:
  // Throws Error(kUnsupported) if PCRE2 cannot compile the pattern.
  explicit Pretokenizer(std::string_view pattern);
  ~Pretokenizer();
  Pretokenizer(Pretokenizer&&) noexcept;
  Pretokenizer& operator=(Pretokenizer&&) noexcept;

  // Appends the words of text (valid UTF-8, already checked) as views into text.
  // Thread-safe: each call uses its own match data.
  void split(std::string_view text, std::vector<std::string_view>& words) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kantu::text
