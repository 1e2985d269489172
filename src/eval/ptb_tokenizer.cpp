#include "eval/ptb_tokenizer.h"

#include <utf8proc.h>

#include <array>

#include "eval/ptb_lexer.h"

namespace kantu::eval {
namespace {

// pycocoevalcap's PUNCTUATIONS. The bracket escapes are uppercase while the tokens are
// already lowercase, so -lrb- & co. survive: a quirk every published score includes.
bool is_removed_punctuation(std::string_view token) {
  static constexpr std::array<std::string_view, 17> kList = {
      "''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
      "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  for (std::string_view p : kList)
    if (token == p) return true;
  return false;
}

bool is_letter(utf8proc_int32_t cp) {
  auto cat = utf8proc_category(cp);
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

void append_code_point(std::string& out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// A caption may not break its line: '\n' is what the wrapper replaces, the others are
// line terminators to the lexer as well.
std::string one_line(std::string_view caption) {
  std::string out;
  out.reserve(caption.size());
  for (size_t i = 0; i < caption.size(); ++i) {
    char c = caption[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      out += ' ';
    } else if (c == '\xE2' && i + 2 < caption.size() && caption[i + 1] == '\x80' &&
               (caption[i + 2] == '\xA8' || caption[i + 2] == '\xA9')) {
      out += ' ';  // U+2028, U+2029
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> lines_from_tokens(const std::vector<PtbToken>& tokens) {
  std::vector<std::string> lines(1);
  for (const PtbToken& token : tokens) {
    if (token.newline) {
      lines.emplace_back();
      continue;
    }
    std::string lower = java_lowercase(token.text);
    if (is_removed_punctuation(lower)) continue;
    if (!lines.back().empty()) lines.back() += ' ';
    lines.back() += lower;
  }
  return lines;
}

}  // namespace

std::string java_lowercase(std::string_view text) {
  std::vector<utf8proc_int32_t> cps;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  for (utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(text.size()); i < n;) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0) {  // not UTF-8 (cannot come from the lexer); keep the byte's meaning
      cp = 0xFFFD;
      len = 1;
    }
    cps.push_back(cp);
    i += len;
  }
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    utf8proc_int32_t cp = cps[i];
    if (cp < 0x80) {
      out += static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    } else if (cp == 0x130) {  // İ -> i + combining dot above
      out += "i\u0307";
    } else if (cp == 0x3A3) {  // Σ: final form after a letter when no letter follows
      bool after_letter = i > 0 && is_letter(cps[i - 1]);
      bool before_letter = i + 1 < cps.size() && is_letter(cps[i + 1]);
      append_code_point(out, after_letter && !before_letter ? 0x3C2 : 0x3C3);
    } else {
      append_code_point(out, utf8proc_tolower(cp));
    }
  }
  return out;
}

std::vector<std::string> ptb_tokenize(const std::vector<std::string>& captions) {
  if (captions.empty()) return {};
  std::string batch;
  for (size_t i = 0; i < captions.size(); ++i) {
    if (i > 0) batch += '\n';
    batch += one_line(captions[i]);
  }
  std::vector<std::string> lines = lines_from_tokens(ptb_lex(batch));
  if (lines.size() == captions.size()) return lines;
  // A token swallowed a line break (an SGML tag with a quoted attribute spanning
  // lines): keep every caption with its own image by lexing them one at a time.
  std::vector<std::string> out;
  out.reserve(captions.size());
  for (const std::string& caption : captions) {
    std::vector<std::string> single = lines_from_tokens(ptb_lex(one_line(caption)));
    std::string joined;
    for (const std::string& part : single) {
      if (part.empty()) continue;
      if (!joined.empty()) joined += ' ';
      joined += part;
    }
    out.push_back(std::move(joined));
  }
  return out;
}

std::string ptb_tokenize_one(std::string_view caption) {
  return ptb_tokenize({std::string(caption)}).front();
}

}  // namespace kantu::eval
