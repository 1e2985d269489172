// Byte-pair encoding: a vocabulary (token bytes <-> id) and ranked merges. The merges apply
// lowest rank first, leftmost first on ties, which gives the same result as the reference's
// "merge every occurrence of the best pair" loop. encode_word() starts from a word's single
// bytes (byte-level BPE); encode_symbols() from any initial symbols (characters with byte
// fallback, for SentencePiece vocabularies).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kantu::text {

class BpeModel {
 public:
  // Sizes the tables up front (a 150k-token vocabulary otherwise rehashes many times).
  void reserve(size_t tokens, size_t merges) {
    bytes_to_id_.reserve(tokens);
    id_to_bytes_.reserve(tokens);
    merges_.reserve(merges);
  }
  // Adds a regular token; returns false if the id or the bytes are already taken.
  bool add_token(std::string bytes, int32_t id);
  // Adds the next merge (rank = number of merges so far). Returns false if left, right or
  // left+right is not in the vocabulary. A repeated pair keeps its first (lowest) rank.
  bool add_merge(std::string_view left, std::string_view right);

  // Id of a token spelled by these bytes, or -1.
  int32_t find(std::string_view bytes) const;
  // Bytes of token id (empty when id is not a regular token).
  std::string_view token_bytes(int32_t id) const;
  // 1 + the largest regular token id (0 when empty).
  int32_t id_limit() const { return static_cast<int32_t>(id_to_bytes_.size()); }
  size_t merge_count() const { return merges_.size(); }
  // True when every single byte has a token (required for byte-level BPE).
  bool covers_all_bytes() const;

  // Scratch reused across words so encoding does not allocate per word.
  struct Workspace {
    struct Symbol {
      int32_t id, prev, next;
    };
    struct Candidate {
      int32_t rank, left, left_id, right_id;
    };
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
  };
  // Appends the ids of one pre-token word (raw bytes, non-empty).
  void encode_word(std::string_view word, Workspace& ws, std::vector<int32_t>& out) const;
  // Appends the ids of a word given as its initial symbols (token ids, non-empty).
  void encode_symbols(std::span<const int32_t> symbols, Workspace& ws,
                      std::vector<int32_t>& out) const;

 private:
  struct Merge {
    int32_t rank, merged;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  const Merge* find_merge(int32_t left, int32_t right) const;
  // Merges ws.symbols (a linked list from index 0) and appends the result.
  void merge_symbols(Workspace& ws, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> bytes_to_id_;
  std::vector<std::string> id_to_bytes_;
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_ids_[256] = {};  // single-byte token ids, filled lazily by add_token
  bool byte_known_[256] = {};
};

}  // namespace kantu::text
