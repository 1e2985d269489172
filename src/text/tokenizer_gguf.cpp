// Loading a Tokenizer from GGUF metadata (llama.cpp's "gpt2" byte-level BPE vocabulary):
// tokenizer.ggml.tokens (byte-level spelled, id = index), token_type, merges ("a b"),
// and the pre-tokenizer name. CONTROL tokens become special added tokens and
// USER_DEFINED ones non-special added tokens, as in the Hugging Face files they were
// converted from; UNUSED padding entries are skipped. The same BPE code then runs.
#include "core/error.h"
#include "formats/gguf.h"
#include "formats/model_folder.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace kantu::text {

namespace {

// llama.cpp's token types (llama_token_type / gguf-py TokenType).
enum : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufFile& f) {
  const std::string& path = f.path();
  const std::string model = f.string("tokenizer.ggml.model");
  if (model != "gpt2") {
    fail(ErrorKind::kUnsupported, path, ": tokenizer.ggml.model is \"", model,
         "\"; kantu reads byte-level BPE vocabularies (\"gpt2\")");
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
  std::vector<int64_t> types;
  if (f.has("tokenizer.ggml.token_type")) {
    types = f.integers("tokenizer.ggml.token_type");
    if (types.size() != tokens.size()) {
      fail(ErrorKind::kCorrupt, path, ": tokenizer.ggml.token_type has ", types.size(),
           " entries but tokenizer.ggml.tokens has ", tokens.size());
    }
  } else {
    types.assign(tokens.size(), kNormal);
  }
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
  return Tokenizer(std::move(bpe), std::move(added), kQwen2Pattern);
}

Tokenizer Tokenizer::load(const ModelFolder& model) {
  if (model.gguf_model()) return from_gguf(*model.gguf_model());
  return load(model.dir());
}

}  // namespace kantu::text
