// Loading a Tokenizer from GGUF metadata:
//   "gpt2" (byte-level BPE): tokenizer.ggml.tokens (byte-level spelled, id = index),
//     token_type, merges ("a b"), and the pre-tokenizer name. CONTROL tokens become special
//     added tokens and USER_DEFINED ones non-special added tokens, as in the Hugging Face
//     files they were converted from; UNUSED padding entries are skipped. The same BPE code
//     then runs.
//   "llama" (SentencePiece, as llama.cpp converts a tokenizer.model): tokens, scores and
//     types become a SentencePiece model again, run by libsentencepiece as the folder's
//     tokenizer.model is; CONTROL/UNKNOWN tokens (<s>, <image>) are special added tokens.
#include "core/error.h"
#include "formats/gguf.h"
#include "formats/model_folder.h"
#include "text/byte_level.h"
#include "text/byte_level_codec.h"
#include "text/pretokenizer.h"
#include "text/sentencepiece_model.h"
#include "text/tokenizer.h"
#include "text/tokenizer_build.h"
#include "text/utf8.h"

namespace kantu::text {

namespace {

// llama.cpp's token types (llama_token_type / gguf-py TokenType).
enum : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

std::vector<int64_t> token_types(const GgufFile& f, size_t count) {
  if (!f.has("tokenizer.ggml.token_type")) return std::vector<int64_t>(count, kNormal);
  std::vector<int64_t> types = f.integers("tokenizer.ggml.token_type");
  if (types.size() != count) {
    fail(ErrorKind::kCorrupt, f.path(), ": tokenizer.ggml.token_type has ", types.size(),
         " entries but tokenizer.ggml.tokens has ", count);
  }
  return types;
}

bool optional_bool(const GgufFile& f, const std::string& key, bool fallback) {
  return f.has(key) ? f.boolean(key) : fallback;
}

int32_t optional_id(const GgufFile& f, const std::string& key, int32_t fallback, size_t count) {
  if (!f.has(key)) return fallback;
  const int64_t id = f.integer(key);
  if (id < -1 || id >= static_cast<int64_t>(count)) {
    fail(ErrorKind::kCorrupt, f.path(), ": ", key, " ", id, " is outside the vocabulary");
  }
  return static_cast<int32_t>(id);
}

// llama.cpp's SentencePiece vocabulary back into a SentencePiece model.
Tokenizer sentencepiece_from_gguf(const GgufFile& f) {
  const std::string& path = f.path();
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  if (tokens.empty() || tokens.size() > static_cast<size_t>(INT32_MAX)) {
    fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.tokens is empty or too large");
  }
  const std::vector<int64_t> types = token_types(f, tokens.size());
  const std::vector<double> scores = f.numbers("tokenizer.ggml.scores");
  if (scores.size() != tokens.size()) {
    fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.scores has ", scores.size(),
         " entries but tokenizer.ggml.tokens has ", tokens.size());
  }
  std::vector<SentencePieceEntry> pieces(tokens.size());
  SentencePieceSpec spec;
  spec.byte_fallback = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (types[i] < kNormal || types[i] > kByte) {
      fail(ErrorKind::kCorrupt, path, ": token ", i, " has an unknown token type ", types[i]);
    }
    if (tokens[i].empty()) fail(ErrorKind::kCorrupt, path, ": token ", i, " is empty");
    check_utf8(tokens[i], path);
    pieces[i] = {std::string(tokens[i]), static_cast<float>(scores[i]), static_cast<PieceType>(types[i])};
    spec.byte_fallback = spec.byte_fallback || types[i] == kByte;
  }
  spec.unk_id = optional_id(f, "tokenizer.ggml.unknown_token_id", 0, tokens.size());
  // convert_hf_to_gguf.py marks every special added token CONTROL, <unk> included;
  // SentencePiece needs its unknown piece typed so.
  if (spec.unk_id >= 0) pieces[static_cast<size_t>(spec.unk_id)].type = PieceType::kUnknown;
  spec.bos_id = optional_id(f, "tokenizer.ggml.bos_token_id", 1, tokens.size());
  spec.eos_id = optional_id(f, "tokenizer.ggml.eos_token_id", 2, tokens.size());
  spec.add_dummy_prefix = optional_bool(f, "tokenizer.ggml.add_space_prefix", true);
  spec.remove_extra_whitespaces = optional_bool(f, "tokenizer.ggml.remove_extra_whitespaces", false);
  TokenizerConfig config;
  config.add_bos_token = optional_bool(f, "tokenizer.ggml.add_bos_token", true);
  if (spec.bos_id >= 0) config.bos_token = std::string(tokens[static_cast<size_t>(spec.bos_id)]);
  return sentencepiece_tokenizer(serialize_sentencepiece_model(pieces, spec), config, {}, path);
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  const std::string& path = f.path();
  const std::string model = f.string("tokenizer.ggml.model");
  if (model == "llama") return sentencepiece_from_gguf(f);
  if (model != "gpt2") {
    fail(ErrorKind::kUnsupported, path, ": tokenizer.ggml.model is \"", model,
         "\"; kantu reads byte-level BPE (\"gpt2\") and SentencePiece (\"llama\") vocabularies");
  }
  if (f.has("tokenizer.ggml.pre")) {
    const std::string pre = f.string("tokenizer.ggml.pre");
    if (pre != "qwen2") {
      fail(ErrorKind::kUnsupported, path, ": tokenizer.ggml.pre is \"", pre,
           "\"; kantu has the Qwen2 pre-tokenizer (\"qwen2\")");
    }
  }
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  if (tokens.size() > static_cast<size_t>(INT32_MAX)) {
    fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.tokens has too many entries");
  }
  const std::vector<int64_t> types = token_types(f, tokens.size());
  const auto& merges = f.strings("tokenizer.ggml.merges");

  BpeModel bpe;
  bpe.reserve(tokens.size(), merges.size());
  std::vector<AddedToken> added;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    const std::string_view token = tokens[i];
    switch (types[i]) {
      case kNormal:
      case kByte: {
        auto bytes = byte_level_to_bytes(token);
        if (!bytes || bytes->empty()) {
          fail(ErrorKind::kCorrupt, path, ": token ", id, " '", token,
               "' is not in the byte-level alphabet");
        }
        if (!bpe.add_token(std::move(*bytes), id)) {
          fail(ErrorKind::kCorrupt, path, ": token ", id, " '", token, "' is a duplicate");
        }
        break;
      }
      case kControl:
      case kUserDefined: {
        if (token.empty()) fail(ErrorKind::kCorrupt, path, ": added token ", id, " is empty");
        check_utf8(token, path);
        added.push_back({id, std::string(token), types[i] == kControl});
        break;
      }
      case kUnused:
      case kUnknown:
        break;  // padding rows of the embedding, never produced by encoding
      default:
        fail(ErrorKind::kCorrupt, path, ": token ", id, " has an unknown token type ", types[i]);
    }
  }
  if (!bpe.covers_all_bytes()) {
    fail(ErrorKind::kCorrupt, path, ": the vocabulary lacks some of the 256 single-byte tokens");
  }
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string_view line = merges[i];
    const size_t space = line.find(' ');
    const auto l = space == std::string_view::npos ? std::nullopt : byte_level_to_bytes(line.substr(0, space));
    const auto r = space == std::string_view::npos ? std::nullopt : byte_level_to_bytes(line.substr(space + 1));
    if (!l || !r || l->empty() || r->empty() || !bpe.add_merge(*l, *r)) {
      fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.merges[", i, "] '", line,
           "' is not two vocabulary tokens separated by one space");
    }
  }
  if (bpe.merge_count() == 0) fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.merges is empty");
  TokenizerOptions options;
  options.nfc = true;
  if (optional_bool(f, "tokenizer.ggml.add_bos_token", false) && f.has("tokenizer.ggml.bos_token_id")) {
    options.bos = optional_id(f, "tokenizer.ggml.bos_token_id", -1, tokens.size());
  }
  return Tokenizer(std::make_shared<const ByteLevelCodec>(std::move(bpe), kQwen2Pattern),
                   std::move(added), options);
}

Tokenizer Tokenizer::load(const ModelFolder& model) {
  if (model.gguf_model()) return from_gguf(*model.gguf_model());
  return load(model.dir());
}

}  // namespace kantu::text
