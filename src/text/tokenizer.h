// The tokenizer of a model, matching Hugging Face's reference (transformers 4.57) id for id:
//   text --check UTF-8--> [NFC] --split on added tokens--> codec (text/text_codec.h) --> ids
// where the codec is the family's: Qwen2's byte-level BPE (regex pre-tokenizer, NFC first),
// a SentencePiece tokenizer.model run by libsentencepiece (LLaMA, Mistral), or the
// tokenizer.json form of such a vocabulary run by kantu's own BPE.
//
// Added tokens (<|im_start|>, <think>, ...) are matched as whole strings, leftmost and longest
// first, before the regex. Which of them may match is the caller's choice (AddedTokenMode):
//   kAll        every added token; the reference's default (golden "ids").
//   kNone       none: the strings are tokenized as plain text. This is the reference's
//               split_special_tokens=True (golden "ids_split_special_tokens"); note that the
//               slow reference splits the non-special added tokens (<think>, <tool_call>) too,
//               while HF's fast tokenizer would keep them whole. We follow the golden.
//   kNonSpecial only added tokens not flagged special (<think>, <tool_call>, ...). Used for
//               user-supplied chat text: it can never produce a control token such as
//               <|im_start|> or <|image_pad|>, but writes <think> the way the model saw it.
// Instances are immutable after loading; encode/decode are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/text_codec.h"

namespace kantu {
class GgufFile;
class ModelFolder;
}  // namespace kantu

namespace kantu::text {

struct AddedToken {
  int32_t id = 0;
  std::string content;   // raw UTF-8, not byte-level spelled
  bool special = false;  // special tokens are dropped by decode(skip_special=true)
};

enum class AddedTokenMode { kAll, kNonSpecial, kNone };

// What a family's tokenizer does around its codec.
struct TokenizerOptions {
  bool nfc = false;                  // NFC-normalize the text first (Qwen2)
  bool strip_leading_space = false;  // decoding drops one leading space (SentencePiece's dummy prefix)
  std::optional<int32_t> bos;        // the token put before a prompt (LLaMA's <s>), if any
};

class Tokenizer {
 public:
  Tokenizer(std::shared_ptr<const TextCodec> codec, std::vector<AddedToken> added,
            const TokenizerOptions& options);

  // Loads <dir>/tokenizer.model (SentencePiece, with tokenizer_config.json) when present,
  // else <dir>/tokenizer.json, else vocab.json + merges.txt + tokenizer_config.json.
  // Malformed files throw Error(kCorrupt) naming the file.
  static Tokenizer load(const std::string& model_dir);
  // config_path: tokenizer_config.json (may not exist): added tokens, legacy, add_bos_token.
  static Tokenizer from_tokenizer_json(const std::string& path, const std::string& config_path = "");
  static Tokenizer from_sentencepiece(const std::string& model_path, const std::string& config_path);
  static Tokenizer from_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                     const std::string& config_path);
  // From a GGUF file's tokenizer.ggml.* metadata: model "gpt2" (pre "qwen2"), or "llama"
  // (a SentencePiece vocabulary with scores, run by libsentencepiece).
  static Tokenizer from_gguf(const GgufFile& file);
  // The tokenizer of an opened model: its folder's files, or its GGUF metadata.
  static Tokenizer load(const ModelFolder& model);

  // Invalid UTF-8 throws Error(kInvalidArgument). parse_special=true is kAll, false is kNone.
  std::vector<int32_t> encode(std::string_view text, bool parse_special) const;
  std::vector<int32_t> encode(std::string_view text, AddedTokenMode mode) const;
  // starts_text=false: text continues an input (a later piece of a chat prompt), which
  // matters to SentencePiece's "first" prefix scheme. No BOS is added by any encode().
  std::vector<int32_t> encode(std::string_view text, AddedTokenMode mode, bool starts_text) const;

  // Bytes of regular tokens are joined and decoded as UTF-8 with U+FFFD for ill-formed
  // sequences; added tokens contribute their content; with strips_leading_space() one
  // leading space of the result is dropped. Unknown ids throw kInvalidArgument.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // HF token strings: the vocabulary's spelling for regular tokens ("Ġworld", "▁world"),
  // content for added ones.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::string id_to_token(int32_t id) const;  // throws kInvalidArgument for unknown ids

  bool is_special(int32_t id) const;  // an added token flagged special
  bool is_added(int32_t id) const;
  bool is_valid(int32_t id) const;
  // 1 + the largest token id (regular or added): 151669 for Qwen3-VL.
  int32_t vocab_size() const { return vocab_size_; }
  // The token the reference tokenizer puts before an input (add_bos_token), if any.
  std::optional<int32_t> bos_id() const { return options_.bos; }
  bool strips_leading_space() const { return options_.strip_leading_space; }
  // Whether encode() NFC-normalizes the text first (Qwen2), so decode(encode(t)) gives
  // nfc(t); otherwise (SentencePiece's identity normalizer) it gives t back.
  bool normalizes_nfc() const { return options_.nfc; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }

  // Raw bytes of a regular token, or the content of an added token (for streaming decode).
  std::string_view piece(int32_t id) const;

  const TextCodec& codec() const { return *codec_; }

 private:
  // Longest added token allowed by mode that starts at text[pos], or nullptr.
  const AddedToken* match_added(std::string_view text, size_t pos, AddedTokenMode mode) const;

  std::shared_ptr<const TextCodec> codec_;
  std::vector<AddedToken> added_;                          // sorted by id
  std::unordered_map<int32_t, size_t> added_by_id_;        // id -> index in added_
  std::vector<std::vector<size_t>> added_by_first_byte_;   // [256] -> indices, longest first
  TokenizerOptions options_;
  int32_t vocab_size_ = 0;
};

}  // namespace kantu::text
