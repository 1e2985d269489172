#include "text/metaspace_bpe_codec.h"

#include <cstdio>

#include "core/error.h"
#include "text/metaspace.h"
#include "text/utf8.h"

namespace kantu::text {

MetaspaceBpeCodec::MetaspaceBpeCodec(BpeModel bpe, const MetaspaceOptions& options)
    : bpe_(std::move(bpe)), options_(options), byte_tokens_(256, -1) {
  bytes_.resize(static_cast<size_t>(bpe_.id_limit()));
  for (int32_t id = 0; id < bpe_.id_limit(); ++id) {
    const std::string_view token = bpe_.token_bytes(id);
    if (!token.empty()) bytes_[static_cast<size_t>(id)] = piece_text(token);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[static_cast<size_t>(b)] = bpe_.find(name);
  }
}

void MetaspaceBpeCodec::encode_word(std::string_view word, BpeModel::Workspace& ws,
                                    std::vector<int32_t>& symbols, std::vector<int32_t>& out) const {
  symbols.clear();
  bool last_unknown = false;
  for (size_t pos = 0; pos < word.size();) {
    size_t len = utf8_sequence_length(word, pos);
    if (len == 0) len = 1;  // checked by the caller; keeps the loop finite regardless
    const std::string_view ch = word.substr(pos, len);
    pos += len;
    const int32_t id = bpe_.find(ch);
    if (id >= 0) {
      symbols.push_back(id);
      last_unknown = false;
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (char c : ch) all = all && byte_tokens_[static_cast<unsigned char>(c)] >= 0;
      if (all) {
        for (char c : ch) symbols.push_back(byte_tokens_[static_cast<unsigned char>(c)]);
        last_unknown = false;
        continue;
      }
    }
    if (!options_.unk_id) {
      fail(ErrorKind::kInvalidArgument, "tokenizer: the character '", ch,
           "' is not in the vocabulary, which has no byte fallback and no unknown token");
    }
    if (!(last_unknown && options_.fuse_unk)) symbols.push_back(*options_.unk_id);
    last_unknown = true;
  }
  if (!symbols.empty()) bpe_.encode_symbols(symbols, ws, out);
}

void MetaspaceBpeCodec::encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string s = replace_all(text, " ", kMetaspace);
  const bool prepend = options_.prepend == MetaspaceOptions::Prepend::kAlways ||
                       (options_.prepend == MetaspaceOptions::Prepend::kFirst && starts_text);
  if (prepend && (options_.prepend_before_space || !s.starts_with(kMetaspace))) s.insert(0, kMetaspace);
  BpeModel::Workspace ws;
  std::vector<int32_t> symbols;
  if (!options_.split) {
    encode_word(s, ws, symbols, out);
    return;
  }
  const std::string_view all = s;
  size_t begin = 0;
  for (size_t hit = all.find(kMetaspace, 1); hit != std::string_view::npos;
       hit = all.find(kMetaspace, hit + kMetaspace.size())) {
    encode_word(all.substr(begin, hit - begin), ws, symbols, out);
    begin = hit;
  }
  encode_word(all.substr(begin), ws, symbols, out);
}

std::string_view MetaspaceBpeCodec::bytes(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= bytes_.size()) return {};
  return bytes_[static_cast<size_t>(id)];
}

std::optional<int32_t> MetaspaceBpeCodec::find(std::string_view token) const {
  const int32_t id = bpe_.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

}  // namespace kantu::text
