// The Penn Treebank lexer of Stanford CoreNLP 3.4.1 (edu.stanford.nlp.process.PTBLexer)
// with the options `PTBTokenizer -preserveLines` gives it (default PTB3 escaping plus
// tokenizeNLs), re-expressed as a table of PCRE2 rules run with JFlex semantics:
// at each position the rule with the longest match wins (a trailing context `head/trail`
// counts towards the length but is not consumed), ties go to the earlier rule.
//
// The captioning metrics are defined on this tokenizer's output, so the aim is to be
// exact, quirks included (see docs/metrics.md §1.2). Characters outside the BMP are
// untokenizable in 3.4.1 (they are UTF-16 surrogate pairs to JFlex) and are deleted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kantu::eval {

struct PtbToken {
  std::string text;      // the token after the lexer's normalizations (not lowercased)
  bool newline = false;  // a line break (the lexer's *NL* token); text is empty
};

// Tokenizes UTF-8 text (invalid bytes are treated as U+FFFD, i.e. deleted like Java
// would after decoding). Thread-safe; the compiled rule table is shared.
std::vector<PtbToken> ptb_lex(std::string_view text);

}  // namespace kantu::eval
