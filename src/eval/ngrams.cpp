#include "eval/ngrams.h"

#include <algorithm>
#include <cstdint>

namespace kantu::eval {
namespace {

// Python's str.isspace() set, as UTF-8 lead sequences; returns the byte length of the
// whitespace character at s[i], or 0.
size_t whitespace_length(std::string_view s, size_t i) {
  auto u = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = u(i);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
  if (c == 0xC2 && i + 1 < s.size() && (u(i + 1) == 0x85 || u(i + 1) == 0xA0)) return 2;
  if (c == 0xE1 && i + 2 < s.size() && u(i + 1) == 0x9A && u(i + 2) == 0x80) return 3;  // U+1680
  if (c == 0xE2 && i + 2 < s.size()) {
    uint8_t b1 = u(i + 1), b2 = u(i + 2);
    if (b1 == 0x80 && ((b2 >= 0x80 && b2 <= 0x8A) || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF))
      return 3;  // U+2000..200A, U+2028, U+2029, U+202F
    if (b1 == 0x81 && b2 == 0x9F) return 3;  // U+205F
  }
  if (c == 0xE3 && i + 2 < s.size() && u(i + 1) == 0x80 && u(i + 2) == 0x80) return 3;  // U+3000
  return 0;
}

}  // namespace

std::vector<std::string_view> split_whitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0, start = std::string_view::npos;
  while (i < text.size()) {
    size_t ws = whitespace_length(text, i);
    if (ws > 0) {
      if (start != std::string_view::npos) words.push_back(text.substr(start, i - start));
      start = std::string_view::npos;
      i += ws;
    } else {
      if (start == std::string_view::npos) start = i;
      ++i;
    }
  }
  if (start != std::string_view::npos) words.push_back(text.substr(start));
  return words;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> words;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ' ') {
      words.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return words;
}

int NgramTable::intern(const std::string& key, int order) {
  auto [it, inserted] = ids_.emplace(key, static_cast<int>(orders_.size()));
  if (inserted) orders_.push_back(order);
  return it->second;
}

NgramCounts NgramTable::count(std::string_view text) {
  std::vector<std::string_view> words = split_whitespace(text);
  NgramCounts out;
  out.length = static_cast<int>(words.size());
  std::vector<int> ids;
  std::string key;
  for (size_t i = 0; i < words.size(); ++i) {
    key.clear();
    for (int n = 1; n <= kMaxOrder && i + static_cast<size_t>(n) <= words.size(); ++n) {
      if (n > 1) key += '\x1F';  // cannot occur inside a word: it is whitespace to split()
      key.append(words[i + static_cast<size_t>(n) - 1]);
      ids.push_back(intern(key, n));
    }
  }
  std::sort(ids.begin(), ids.end());
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    out.counts.emplace_back(ids[i], static_cast<int>(j - i));
    i = j;
  }
  return out;
}

int count_of(const NgramCounts& c, int id) {
  auto it = std::lower_bound(c.counts.begin(), c.counts.end(), std::make_pair(id, 0));
  return it != c.counts.end() && it->first == id ? it->second : 0;
}

}  // namespace kantu::eval
