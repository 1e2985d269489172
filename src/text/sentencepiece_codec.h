// A SentencePiece model (tokenizer.model) run by the reference library, libsentencepiece,
// the way transformers' slow LlamaTokenizer drives it:
//   legacy (the default, and the llava-hf checkpoints): every run of text between added
//     tokens is encoded on its own with the model's dummy prefix, so "<image>\nWhat" gives
//     "▁" (29871) before the newline's byte token, as the official ids have it;
//   non-legacy: the dummy prefix is switched off in the model, "▁" is put before the whole
//     input only, and a run that starts with a space is encoded behind "<unk>" whose pieces
//     are then dropped (what the reference does to keep that space).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "text/sentencepiece_model.h"
#include "text/text_codec.h"

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace kantu::text {

struct SentencePieceOptions {
  bool legacy = true;
  bool add_prefix_space = true;  // tokenizer_config.json add_prefix_space (non-legacy only)
};

class SentencePieceCodec final : public TextCodec {
 public:
  // serialized: the ModelProto bytes; where: the file, for errors. Only BPE and unigram
  // models with the identity normalizer (no precompiled charsmap) are accepted.
  SentencePieceCodec(const std::string& serialized, const SentencePieceOptions& options,
                     const std::string& where);
  ~SentencePieceCodec() override;

  void encode(std::string_view text, bool starts_text, std::vector<int32_t>& out) const override;
  std::string_view bytes(int32_t id) const override;
  int32_t id_limit() const override { return static_cast<int32_t>(model_.pieces.size()); }
  std::optional<int32_t> find(std::string_view token) const override;
  std::string spell(int32_t id) const override;

  const SentencePieceModel& model() const { return model_; }

 private:
  void encode_with_library(std::string_view text, std::vector<int32_t>& out) const;

  SentencePieceModel model_;
  SentencePieceOptions options_;
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  std::vector<std::string> bytes_;  // per id: the text a normal, user-defined or byte piece stands for
  size_t unk_prefix_pieces_ = 0;    // non-legacy: how many ids "<unk>" encodes to
  std::string unk_piece_;
};

}  // namespace kantu::text
