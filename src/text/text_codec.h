// What differs between tokenizer families sits behind this interface: how a run of text
// that holds no added token becomes ids, and what bytes a regular token stands for.
//   - ByteLevelCodec: Qwen2's byte-level BPE (regex pre-tokenizer, merges over bytes);
//   - SentencePieceCodec: a tokenizer.model run by the reference library (LLaMA, Mistral);
//   - MetaspaceBpeCodec: the "fast" tokenizer.json form of a SentencePiece BPE vocabulary
//     (merges over characters, U+2581 for spaces, byte fallback).
// Tokenizer (tokenizer.h) owns the parts every family shares: the added tokens matched whole
// before the codec runs, the BOS token, normalization, decoding with U+FFFD replacement.
// A codec is immutable after construction and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kantu::text {

class TextCodec {
 public:
  virtual ~TextCodec() = default;
  // Appends the ids of one run of text that contains no added token to match.
  // `starts_text`: the run begins the whole input (what SentencePiece's "first" prefix
  // scheme and the non-legacy LLaMA tokenizer look at). Empty text appends nothing.
  virtual void encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const = 0;
  // The raw bytes a regular token stands for (a SentencePiece "▁" becomes a space, a byte
  // token <0x0A> its byte); empty when id is not a regular token of this codec.
  virtual std::string_view bytes(int32_t id) const = 0;
  // 1 + the largest regular token id.
  virtual int32_t id_limit() const = 0;
  // Hugging Face token strings (the vocabulary's keys) to ids and back.
  virtual std::optional<int32_t> find(std::string_view token) const = 0;
  virtual std::string spell(int32_t id) const = 0;
};

}  // namespace kantu::text
