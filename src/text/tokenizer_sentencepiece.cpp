// Loading a Tokenizer from a SentencePiece tokenizer.model, as transformers' slow
// LlamaTokenizer does: the model's control and unknown pieces (<s>, </s>, <unk>) and
// tokenizer_config.json's added_tokens_decoder (<image>, <pad>, ...) are the added tokens,
// matched whole before SentencePiece sees the text; `legacy` (default true) and
// `add_prefix_space` choose how the dummy prefix works (text/sentencepiece_codec.h);
// add_bos_token (default true) puts <s> first.
#include "core/error.h"
#include "core/mapped_file.h"
#include "text/sentencepiece_codec.h"
#include "text/tokenizer.h"
#include "text/tokenizer_build.h"

namespace kantu::text {

namespace {

// The pieces SentencePiece never produces from text, as special added tokens.
std::vector<AddedToken> control_pieces(const SentencePieceModel& model) {
  std::vector<AddedToken> out;
  for (size_t id = 0; id < model.pieces.size(); ++id) {
    const SentencePieceEntry& p = model.pieces[id];
    if (p.type == PieceType::kControl || p.type == PieceType::kUnknown) {
      out.push_back({static_cast<int32_t>(id), p.piece, true});
    }
  }
  return out;
}

}  // namespace

Tokenizer sentencepiece_tokenizer(const std::string& serialized, const TokenizerConfig& config,
                                  const std::vector<AddedToken>& extra_added, const std::string& where) {
  SentencePieceOptions sp;
  sp.legacy = config.legacy.value_or(true);
  sp.add_prefix_space = config.add_prefix_space.value_or(true);
  auto codec = std::make_shared<const SentencePieceCodec>(serialized, sp, where);
  std::vector<AddedToken> added = config.added;
  merge_added(added, extra_added);
  merge_added(added, control_pieces(codec->model()));
  TokenizerOptions options;
  options.strip_leading_space = codec->model().add_dummy_prefix || !sp.legacy;
  options.bos = resolve_bos(config, true, "<s>", added, *codec, where);
  return Tokenizer(std::move(codec), std::move(added), options);
}

Tokenizer Tokenizer::from_sentencepiece(const std::string& model_path, const std::string& config_path) {
  const std::string serialized = read_file(model_path);
  return sentencepiece_tokenizer(serialized, read_tokenizer_config(config_path), {}, model_path);
}

}  // namespace kantu::text
