#include "text/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace kantu::text {

Tokenizer::Tokenizer(BpeModel bpe, std::vector<AddedToken> added, std::string_view pattern)
    : bpe_(std::move(bpe)), added_(std::move(added)), pretokenizer_(pattern) {
  std::sort(added_.begin(), added_.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  added_by_first_byte_.resize(256);
  vocab_size_ = bpe_.id_limit();
  for (size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& t = added_[i];
    added_by_id_[t.id] = i;
    vocab_size_ = std::max(vocab_size_, t.id + 1);
    if (!t.content.empty()) {
      added_by_first_byte_[static_cast<unsigned char>(t.content[0])].push_back(i);
    }
  }
  for (auto& list : added_by_first_byte_) {
    std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
      return added_[a].content.size() > added_[b].content.size();
    });
  }
}

const AddedToken* Tokenizer::match_added(std::string_view text, size_t pos,
                                         AddedTokenMode mode) const {
  for (size_t index : added_by_first_byte_[static_cast<unsigned char>(text[pos])]) {
    const AddedToken& t = added_[index];
    if (mode == AddedTokenMode::kNonSpecial && t.special) continue;
    if (text.compare(pos, t.content.size(), t.content) == 0) return &t;
  }
  return nullptr;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool parse_special) const {
  return encode(text, parse_special ? AddedTokenMode::kAll : AddedTokenMode::kNone);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, AddedTokenMode mode) const {
  check_utf8(text, "text to tokenize");
  // The reference normalizes the whole text first, then looks for added tokens.
  const std::string normalized = nfc(text);
  const std::string_view s = normalized;
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 4);
  if (mode == AddedTokenMode::kNone || added_.empty()) {
    encode_plain(s, ids);
    return ids;
  }
  size_t plain_begin = 0;
  for (size_t pos = 0; pos < s.size();) {
    const AddedToken* t = match_added(s, pos, mode);
    if (!t) {
      ++pos;
      continue;
    }
    encode_plain(s.substr(plain_begin, pos - plain_begin), ids);
    ids.push_back(t->id);
    pos += t->content.size();
    plain_begin = pos;
  }
  encode_plain(s.substr(plain_begin), ids);
  return ids;
}

void Tokenizer::encode_plain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::vector<std::string_view> words;
  words.reserve(text.size() / 4 + 1);
  pretokenizer_.split(text, words);
  // Words repeat a lot in real text; remember each distinct word's ids for this call.
  struct Span {
    uint32_t begin, size;
  };
  std::unordered_map<std::string_view, Span> cache;
  std::vector<int32_t> cached_ids;
  BpeModel::Workspace ws;
  for (std::string_view word : words) {
    if (word.size() == 1) {  // one byte: nothing to merge
      out.push_back(bpe_.find(word));
      continue;
    }
    const auto it = cache.find(word);
    if (it != cache.end()) {
      out.insert(out.end(), cached_ids.begin() + it->second.begin,
                 cached_ids.begin() + it->second.begin + it->second.size);
      continue;
    }
    const size_t before = out.size();
    bpe_.encode_word(word, ws, out);
    const Span span{static_cast<uint32_t>(cached_ids.size()),
                    static_cast<uint32_t>(out.size() - before)};
    cached_ids.insert(cached_ids.end(), out.begin() + static_cast<std::ptrdiff_t>(before),
                      out.end());
    cache.emplace(word, span);
  }
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string text, pending;
  for (int32_t id : ids) {
    if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
    const auto added = added_by_id_.find(id);
    if (added == added_by_id_.end()) {
      pending.append(bpe_.token_bytes(id));
      continue;
    }
    const AddedToken& t = added_[added->second];
    if (skip_special && t.special) continue;
    append_utf8_lossy(pending, text);
    pending.clear();
    text.append(t.content);
  }
  append_utf8_lossy(pending, text);
  return text;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& t : added_) {
    if (t.content == token) return t.id;
  }
  const auto bytes = byte_level_to_bytes(token);
  if (!bytes) return std::nullopt;
  const int32_t id = bpe_.find(*bytes);
  if (id < 0) return std::nullopt;
  return id;
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
  const auto added = added_by_id_.find(id);
  if (added != added_by_id_.end()) return added_[added->second].content;
  return bytes_to_byte_level(bpe_.token_bytes(id));
}

bool Tokenizer::is_special(int32_t id) const {
  const auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && added_[it->second].special;
}

bool Tokenizer::is_added(int32_t id) const { return added_by_id_.count(id) != 0; }

bool Tokenizer::is_valid(int32_t id) const {
  return id >= 0 && id < vocab_size_ && (is_added(id) || !bpe_.token_bytes(id).empty());
}

std::string_view Tokenizer::piece(int32_t id) const {
  if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
  const auto added = added_by_id_.find(id);
  if (added != added_by_id_.end()) return added_[added->second].content;
  return bpe_.token_bytes(id);
}

}  // namespace kantu::text
