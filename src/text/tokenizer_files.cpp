// Loading a Tokenizer from a model folder: tokenizer.model (SentencePiece), tokenizer.json
// (the "fast" format, tokenizer_json.cpp), or vocab.json + merges.txt + tokenizer_config.json
// (the "slow" byte-level format, here). Every problem is a kCorrupt / kUnsupported Error
// naming the file and what is wrong in it.
#include <algorithm>

#include "core/error.h"
#include "core/mapped_file.h"
#include "text/byte_level.h"
#include "text/byte_level_codec.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"
#include "text/tokenizer_build.h"
#include "text/vocab_stream.h"

namespace kantu::text {

namespace {

std::optional<std::string> spelled_bytes(std::string_view spelled, Spelling spelling) {
  if (spelling == Spelling::kRaw) return std::string(spelled);
  return byte_level_to_bytes(spelled);
}

// "a b" -> {"a", "b"}; the byte-level alphabet has no plain space, so one space separates.
void add_merge_line(BpeModel& bpe, std::string_view line, const std::string& where) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= line.size() ||
      line.find(' ', space + 1) != std::string_view::npos) {
    fail(ErrorKind::kCorrupt, where, ": a merge must be two tokens separated by one space, got '",
         line, "'");
  }
  add_merge(bpe, line.substr(0, space), line.substr(space + 1), where, Spelling::kByteLevel);
}

}  // namespace

void add_vocab(BpeModel& bpe, const std::vector<std::pair<std::string, Json>>& vocab,
               const std::vector<AddedToken>& added, const std::string& path, Spelling spelling) {
  for (const auto& entry : vocab) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& spelled = entry.first;
    const Json& value = entry.second;
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > INT32_MAX) {
      fail(ErrorKind::kCorrupt, path, ": token '", spelled, "' has a bad id ", value.dump());
    }
    const int32_t id = value.get<int32_t>();
    const bool is_added = std::any_of(added.begin(), added.end(), [&](const AddedToken& t) {
      return t.id == id && t.content == spelled;
    });
    if (is_added) continue;
    auto bytes = spelled_bytes(spelled, spelling);
    if (!bytes || bytes->empty()) {
      fail(ErrorKind::kCorrupt, path, ": token '", spelled, "' (id ", id,
           ") is not in the byte-level alphabet");
    }
    if (!bpe.add_token(std::move(*bytes), id)) {
      fail(ErrorKind::kCorrupt, path, ": token '", spelled, "' (id ", id, ") is a duplicate");
    }
  }
  if (spelling == Spelling::kByteLevel && !bpe.covers_all_bytes()) {
    fail(ErrorKind::kCorrupt, path, ": the vocabulary lacks some of the 256 single-byte tokens");
  }
}

void add_merge(BpeModel& bpe, std::string_view left, std::string_view right,
               const std::string& where, Spelling spelling) {
  const auto l = spelled_bytes(left, spelling), r = spelled_bytes(right, spelling);
  if (!l || !r || l->empty() || r->empty() || !bpe.add_merge(*l, *r)) {
    fail(ErrorKind::kCorrupt, where, ": merge '", left, " ", right,
         "' uses tokens that are not in the vocabulary");
  }
}

void merge_added(std::vector<AddedToken>& added, const std::vector<AddedToken>& extra) {
  for (const AddedToken& t : extra) {
    const bool known = std::any_of(added.begin(), added.end(), [&](const AddedToken& a) { return a.id == t.id; });
    if (!known) added.push_back(t);
  }
}

std::optional<int32_t> resolve_bos(const TokenizerConfig& config, bool default_add,
                                   const std::string& default_bos,
                                   const std::vector<AddedToken>& added, const TextCodec& codec,
                                   const std::string& where) {
  if (!config.add_bos_token.value_or(default_add)) return std::nullopt;
  const std::string name = config.bos_token.value_or(default_bos);
  if (name.empty()) return std::nullopt;
  for (const AddedToken& t : added) {
    if (t.content == name) return t.id;
  }
  if (const auto id = codec.find(name)) return id;
  if (!config.bos_token) return std::nullopt;
  fail(ErrorKind::kCorrupt, where, ": the BOS token '", name, "' is not in the vocabulary");
}

Tokenizer Tokenizer::from_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                       const std::string& config_path) {
  if (!file_exists(config_path)) fail(ErrorKind::kNotFound, config_path, ": no such file");
  const TokenizerConfig config = read_tokenizer_config(config_path);
  BpeModel bpe;
  VocabMergesStream stream;  // vocab at the top level, no merges
  stream.collect_merges = false;
  const Json rest = stream.parse(read_file(vocab_path), vocab_path);
  if (!stream.saw_vocab || !rest.is_object()) {
    fail(ErrorKind::kCorrupt, vocab_path, ": the vocabulary is not a JSON object");
  }
  const std::string merges = read_file(merges_path);
  bpe.reserve(stream.vocab.size(),
              static_cast<size_t>(std::count(merges.begin(), merges.end(), '\n')) + 1);
  add_vocab(bpe, stream.vocab, config.added, vocab_path, Spelling::kByteLevel);
  size_t line_no = 0;
  for (size_t pos = 0; pos < merges.size();) {
    size_t end = merges.find('\n', pos);
    if (end == std::string::npos) end = merges.size();
    std::string_view line(merges.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    add_merge_line(bpe, line, cat(merges_path, ":", line_no));
  }
  if (bpe.merge_count() == 0) fail(ErrorKind::kCorrupt, merges_path, ": no merges");
  TokenizerOptions options;
  options.nfc = true;
  auto codec = std::make_shared<const ByteLevelCodec>(std::move(bpe), kQwen2Pattern);
  options.bos = resolve_bos(config, false, "", config.added, *codec, config_path);
  return Tokenizer(std::move(codec), config.added, options);
}

Tokenizer Tokenizer::load(const std::string& model_dir) {
  const std::string config = model_dir + "/tokenizer_config.json";
  const std::string sp_path = model_dir + "/tokenizer.model";
  if (file_exists(sp_path)) return from_sentencepiece(sp_path, config);
  const std::string json_path = model_dir + "/tokenizer.json";
  if (file_exists(json_path)) return from_tokenizer_json(json_path, config);
  const std::string vocab = model_dir + "/vocab.json", merges = model_dir + "/merges.txt";
  if (!file_exists(vocab) || !file_exists(merges)) {
    fail(ErrorKind::kNotFound, model_dir, ": no tokenizer.model, no tokenizer.json, and no vocab.json + merges.txt");
  }
  return from_vocab_merges(vocab, merges, config);
}

}  // namespace kantu::text
