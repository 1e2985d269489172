// The "fast" tokenizer.json form of a SentencePiece BPE vocabulary (LlamaTokenizerFast,
// written by transformers' LlamaConverter), encoded by kantu's own BPE:
//   - spaces become "▁"; a "▁" is prepended to every run of text (legacy: the Prepend
//     normalizer) or only to the run that starts the input (Metaspace prepend_scheme
//     "first"), or never;
//   - merges by rank over the run's characters (not bytes); a character missing from the
//     vocabulary becomes its UTF-8 bytes as <0xXX> tokens (byte_fallback), else <unk>
//     (consecutive unknowns fused into one);
//   - a token's text is its piece with "▁" as a space, or the byte of a <0xXX> token.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "text/bpe.h"
#include "text/text_codec.h"

namespace kantu::text {

struct MetaspaceOptions {
  enum class Prepend { kAlways, kFirst, kNever };
  Prepend prepend = Prepend::kAlways;
  // The Prepend normalizer adds "▁" even before a leading space; the Metaspace
  // pre-tokenizer only when the run does not already start with one.
  bool prepend_before_space = true;
  bool split = false;  // Metaspace split=true: every "▁" starts a new word
  bool byte_fallback = true;
  std::optional<int32_t> unk_id;
  bool fuse_unk = true;
};

class MetaspaceBpeCodec final : public TextCodec {
 public:
  // bpe: tokens spelled as in the vocabulary ("▁the", "<0x0A>"), with their merges.
  MetaspaceBpeCodec(BpeModel bpe, const MetaspaceOptions& options);

  void encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const override;
  std::string_view bytes(int32_t id) const override;
  int32_t id_limit() const override { return bpe_.id_limit(); }
  std::optional<int32_t> find(std::string_view token) const override;
  std::string spell(int32_t id) const override { return std::string(bpe_.token_bytes(id)); }

 private:
  void encode_word(std::string_view word, BpeModel::Workspace& ws, std::vector<int32_t>& symbols,
                   std::vector<int32_t>& out) const;

  BpeModel bpe_;
  MetaspaceOptions options_;
  std::vector<std::string> bytes_;      // per id: the text the token stands for
  std::vector<int32_t> byte_tokens_;    // per byte value: the <0xXX> token, or -1
};

}  // namespace kantu::text
