// Word splitting and n-gram counting shared by BLEU and CIDEr-D. N-grams are interned
// to small integer ids so the scorers work on sorted (id, count) vectors.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kantu::eval {

// Python's str.split() (no argument): runs of Unicode whitespace separate words.
std::vector<std::string_view> split_whitespace(std::string_view text);
// Python's str.split(" "): every single space separates, so empty words can occur.
std::vector<std::string_view> split_spaces(std::string_view text);

// N-gram counts of one sentence for orders 1..4, sorted by n-gram id.
struct NgramCounts {
  std::vector<std::pair<int, int>> counts;  // (n-gram id, count), ascending ids
  int length = 0;                           // number of words
};

class NgramTable {
 public:
  static constexpr int kMaxOrder = 4;
  // Counts the n-grams (orders 1..kMaxOrder) of `text` split with split_whitespace().
  NgramCounts count(std::string_view text);
  // 1..4: the order of an interned n-gram.
  int order(int id) const { return orders_[static_cast<size_t>(id)]; }
  size_t size() const { return orders_.size(); }

 private:
  int intern(const std::string& key, int order);
  std::unordered_map<std::string, int> ids_;
  std::vector<int> orders_;
};

// Count of `id` in sorted counts (0 if absent).
int count_of(const NgramCounts& c, int id);

}  // namespace kantu::eval
