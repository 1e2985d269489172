// Caption tokenization exactly as pycocoevalcap's PTBTokenizer wrapper does it: all
// captions go through the Stanford PTB lexer (3.4.1, `-preserveLines -lowerCase`) as
// one batch, one caption per line, then the wrapper drops the tokens in its
// punctuation list and joins the rest with single spaces. Details: docs/metrics.md §1.2.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kantu::eval {

// One output string per caption, in order. Captions are lexed as one batch like the
// reference does (a token's trailing context may look into the next line).
// Deliberate deviation: line-break characters other than '\n' (\r, U+2028, U+2029,
// \v, \f) become spaces too; the reference would shift captions between images.
std::vector<std::string> ptb_tokenize(const std::vector<std::string>& captions);

// A single caption (a batch of one).
std::string ptb_tokenize_one(std::string_view caption);

// Java's String.toLowerCase(Locale.ENGLISH) for UTF-8 text (İ -> i̇, final sigma).
std::string java_lowercase(std::string_view text);

}  // namespace kantu::eval
