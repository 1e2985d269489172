// Qwen2's byte-level BPE: the regex pre-tokenizer splits the text into words, and merges
// by rank join each word's bytes (GPT-2's byte alphabet spells the tokens in the files).
#pragma once

#include <string>
#include <string_view>

#include "text/bpe.h"
#include "text/pretokenizer.h"
#include "text/text_codec.h"

namespace kantu::text {

class ByteLevelCodec final : public TextCodec {
 public:
  // bpe must cover all 256 single bytes; pattern is the pre-tokenizer regex.
  ByteLevelCodec(BpeModel bpe, std::string_view pattern);

  void encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const override;
  std::string_view bytes(int32_t id) const override { return bpe_.token_bytes(id); }
  int32_t id_limit() const override { return bpe_.id_limit(); }
  std::optional<int32_t> find(std::string_view token) const override;
  std::string spell(int32_t id) const override;

 private:
  BpeModel bpe_;
  Pretokenizer pretokenizer_;
};

}  // namespace kantu::text
