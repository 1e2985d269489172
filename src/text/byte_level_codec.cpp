#include "text/byte_level_codec.h"

#include <unordered_map>

#include "core/error.h"
#include "text/byte_level.h"

namespace kantu::text {

ByteLevelCodec::ByteLevelCodec(BpeModel bpe, std::string_view pattern)
    : bpe_(std::move(bpe)), pretokenizer_(pattern) {
  KANTU_CHECK(bpe_.covers_all_bytes(), "byte-level vocabulary lacks a byte token");
}

void ByteLevelCodec::encode(std::string_view text, bool, std::vector<int32_t>& out) const {
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

std::optional<int32_t> ByteLevelCodec::find(std::string_view token) const {
  const auto bytes = byte_level_to_bytes(token);
  if (!bytes) return std::nullopt;
  const int32_t id = bpe_.find(*bytes);
  if (id < 0) return std::nullopt;
  return id;
}

std::string ByteLevelCodec::spell(int32_t id) const { return bytes_to_byte_level(bpe_.token_bytes(id)); }

}  // namespace kantu::text
