#include "text/tokenizer.h"

#include <algorithm>

#include "core/error.h"
#include "text/utf8.h"

namespace kantu::text {

Tokenizer::Tokenizer(std::shared_ptr<const TextCodec> codec, std::vector<AddedToken> added,
                     const TokenizerOptions& options)
    : codec_(std::move(codec)), added_(std::move(added)), options_(options) {
  KANTU_CHECK(codec_ != nullptr);
  std::sort(added_.begin(), added_.end(),
            [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  added_by_first_byte_.resize(256);
  vocab_size_ = codec_->id_limit();
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
  if (options_.bos && !is_valid(*options_.bos)) {
    fail(ErrorKind::kCorrupt, "tokenizer: the BOS token id ", *options_.bos, " is not in the vocabulary");
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
  return encode(text, mode, true);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, AddedTokenMode mode,
                                       bool starts_text) const {
  check_utf8(text, "text to tokenize");
  // The reference normalizes the whole text first, then looks for added tokens.
  const std::string normalized = options_.nfc ? nfc(text) : std::string(text);
  const std::string_view s = normalized;
  std::vector<int32_t> ids;
  ids.reserve(s.size() / 3 + 4);
  if (mode == AddedTokenMode::kNone || added_.empty()) {
    codec_->encode(s, starts_text, ids);
    return ids;
  }
  size_t plain_begin = 0;
  for (size_t pos = 0; pos < s.size();) {
    const AddedToken* t = match_added(s, pos, mode);
    if (!t) {
      ++pos;
      continue;
    }
    codec_->encode(s.substr(plain_begin, pos - plain_begin), starts_text && plain_begin == 0, ids);
    ids.push_back(t->id);
    pos += t->content.size();
    plain_begin = pos;
  }
  codec_->encode(s.substr(plain_begin), starts_text && plain_begin == 0, ids);
  return ids;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string text, pending;
  for (int32_t id : ids) {
    if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
    const auto added = added_by_id_.find(id);
    if (added == added_by_id_.end()) {
      pending.append(codec_->bytes(id));
      continue;
    }
    const AddedToken& t = added_[added->second];
    if (skip_special && t.special) continue;
    append_utf8_lossy(pending, text);
    pending.clear();
    text.append(t.content);
  }
  append_utf8_lossy(pending, text);
  if (options_.strip_leading_space && text.starts_with(' ')) text.erase(0, 1);
  return text;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& t : added_) {
    if (t.content == token) return t.id;
  }
  return codec_->find(token);
}

std::string Tokenizer::id_to_token(int32_t id) const {
  if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
  const auto added = added_by_id_.find(id);
  if (added != added_by_id_.end()) return added_[added->second].content;
  return codec_->spell(id);
}

bool Tokenizer::is_special(int32_t id) const {
  const auto it = added_by_id_.find(id);
  return it != added_by_id_.end() && added_[it->second].special;
}

bool Tokenizer::is_added(int32_t id) const { return added_by_id_.count(id) != 0; }

bool Tokenizer::is_valid(int32_t id) const {
  return id >= 0 && id < vocab_size_ && (is_added(id) || !codec_->bytes(id).empty());
}

std::string_view Tokenizer::piece(int32_t id) const {
  if (!is_valid(id)) fail(ErrorKind::kInvalidArgument, "token id ", id, " is not in the vocabulary (size ", vocab_size_, ")");
  const auto added = added_by_id_.find(id);
  if (added != added_by_id_.end()) return added_[added->second].content;
  return codec_->bytes(id);
}

}  // namespace kantu::text
