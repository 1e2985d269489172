// Loading a Tokenizer from the Hugging Face files: tokenizer.json (the "fast" format), or
// vocab.json + merges.txt + tokenizer_config.json (the "slow" format). Every problem is a
// kCorrupt / kUnsupported Error naming the file and what is wrong in it.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace kantu::text {

namespace {

// GPT-2's pattern, for byte-level tokenizers whose ByteLevel pre-tokenizer does the split.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Parses JSON while pulling the vocabulary (an object of ~150k "token": id pairs) and the
// merges out of the event stream instead of building them as DOM nodes: building them
// costs most of the load time. vocab_path/merges_path name where they sit: {} = top level,
// {"model", "vocab"} = doc.model.vocab. Everything else is returned as the DOM.
struct VocabMergesStream {
  std::vector<std::string> vocab_path, merges_path;
  bool collect_merges = true;  // false: merges come from merges.txt
  std::vector<std::pair<std::string, Json>> vocab;      // spelled token, id value
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<std::string> bad_merges;                  // entries of an unexpected form
  bool saw_vocab = false, saw_merges = false;

  Json parse(const std::string& text, const std::string& path) {
    std::vector<std::string> keys;  // keys[d] = last key seen at depth d + 1
    std::string pending_key;
    const auto at = [&](const std::vector<std::string>& where, int depth) {
      if (static_cast<int>(where.size()) != depth) return false;
      for (size_t i = 0; i < where.size(); ++i) {
        if (i >= keys.size() || keys[i] != where[i]) return false;
      }
      return true;
    };
    const Json::parser_callback_t cb = [&](int depth, Json::parse_event_t event, Json& parsed) {
      switch (event) {
        case Json::parse_event_t::key:
          if (at(vocab_path, depth - 1)) {
            pending_key = parsed.get<std::string>();
            return false;  // not stored: the value event below records the pair
          }
          if (depth >= 1) {
            keys.resize(static_cast<size_t>(depth));
            keys[static_cast<size_t>(depth) - 1] = parsed.get<std::string>();
          }
          return true;
        case Json::parse_event_t::object_start:
          if (at(vocab_path, depth)) saw_vocab = true;
          return true;
        case Json::parse_event_t::array_start:
          if (collect_merges && at(merges_path, depth)) saw_merges = true;
          return true;
        case Json::parse_event_t::value:
          if (depth == static_cast<int>(vocab_path.size()) + 1 && at(vocab_path, depth - 1)) {
            vocab.emplace_back(std::move(pending_key), parsed);
            return false;
          }
          if (collect_merges && depth == static_cast<int>(merges_path.size()) + 1 &&
              at(merges_path, depth - 1)) {
            if (parsed.is_string()) {
              const std::string& m = parsed.get_ref<const std::string&>();
              const size_t space = m.find(' ');
              if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos) {
                bad_merges.push_back(m);
              } else {
                merges.emplace_back(m.substr(0, space), m.substr(space + 1));
              }
            } else {
              bad_merges.push_back(parsed.dump());
            }
            return false;
          }
          return true;
        case Json::parse_event_t::array_end:  // a merge in the ["a", "b"] form
          if (collect_merges && depth == static_cast<int>(merges_path.size()) + 1 &&
              at(merges_path, depth - 1)) {
            if (parsed.size() == 2 && parsed[0].is_string() && parsed[1].is_string()) {
              merges.emplace_back(parsed[0].get<std::string>(), parsed[1].get<std::string>());
            } else {
              bad_merges.push_back(parsed.dump());
            }
            return false;
          }
          return true;
        default:
          return true;
      }
    };
    try {
      return Json::parse(text, cb);
    } catch (const Json::exception& e) {
      fail(ErrorKind::kCorrupt, path, ": invalid JSON: ", e.what());
    }
  }
};

// Adds the regular tokens of a {"token": id, ...} object. Entries that are added tokens
// (same id and content) may appear in the vocab spelled raw; those are skipped.
void add_vocab(BpeModel& bpe, const std::vector<std::pair<std::string, Json>>& vocab,
               const std::vector<AddedToken>& added, const std::string& path) {
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
    auto bytes = byte_level_to_bytes(spelled);
    if (!bytes || bytes->empty()) {
      fail(ErrorKind::kCorrupt, path, ": token '", spelled, "' (id ", id,
           ") is not in the byte-level alphabet");
    }
    if (!bpe.add_token(std::move(*bytes), id)) {
      fail(ErrorKind::kCorrupt, path, ": token '", spelled, "' (id ", id, ") is a duplicate");
    }
  }
  if (!bpe.covers_all_bytes()) {
    fail(ErrorKind::kCorrupt, path, ": the vocabulary lacks some of the 256 single-byte tokens");
  }
}

void add_merge(BpeModel& bpe, std::string_view left, std::string_view right,
               const std::string& where) {
  const auto l = byte_level_to_bytes(left), r = byte_level_to_bytes(right);
  if (!l || !r || l->empty() || r->empty() || !bpe.add_merge(*l, *r)) {
    fail(ErrorKind::kCorrupt, where, ": merge '", left, " ", right,
         "' uses tokens that are not in the vocabulary");
  }
}

// "a b" -> {"a", "b"}; the byte-level alphabet has no plain space, so one space separates.
void add_merge_line(BpeModel& bpe, std::string_view line, const std::string& where) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= line.size() ||
      line.find(' ', space + 1) != std::string_view::npos) {
    fail(ErrorKind::kCorrupt, where, ": a merge must be two tokens separated by one space, got '",
         line, "'");
  }
  add_merge(bpe, line.substr(0, space), line.substr(space + 1), where);
}

AddedToken parse_added_token(const Json& entry, int64_t id, const std::string& where) {
  if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string()) {
    fail(ErrorKind::kCorrupt, where, ": added token ", id, " has no string 'content'");
  }
  if (id < 0 || id > INT32_MAX) fail(ErrorKind::kCorrupt, where, ": added token id ", id, " is out of range");
  AddedToken t;
  t.id = static_cast<int32_t>(id);
  t.content = entry["content"].get<std::string>();
  if (t.content.empty()) fail(ErrorKind::kCorrupt, where, ": added token ", id, " is empty");
  check_utf8(t.content, where);
  const auto special = entry.find("special");
  if (special != entry.end()) {
    if (!special->is_boolean()) fail(ErrorKind::kCorrupt, where, ": added token ", id, ": 'special' is not a boolean");
    t.special = special->get<bool>();
  }
  return t;
}

// The regex of a tokenizer.json pre_tokenizer: a Split with a Regex pattern (possibly inside
// a Sequence), or GPT-2's when only a ByteLevel with use_regex does the split.
std::string pretokenizer_pattern(const Json& pre, const std::string& path) {
  if (pre.is_null()) fail(ErrorKind::kUnsupported, path, ": a tokenizer without a pre_tokenizer is not supported");
  std::vector<const Json*> steps;
  if (pre.value("type", "") == "Sequence") {
    for (const Json& step : pre.at("pretokenizers")) steps.push_back(&step);
  } else {
    steps.push_back(&pre);
  }
  std::string pattern;
  bool byte_level = false;
  for (const Json* step : steps) {
    const std::string type = step->value("type", "");
    if (type == "Split") {
      const Json& p = step->at("pattern");
      if (!p.contains("Regex") || !pattern.empty()) fail(ErrorKind::kUnsupported, path, ": unsupported Split pre-tokenizer");
      pattern = p.at("Regex").get<std::string>();
    } else if (type == "ByteLevel") {
      byte_level = true;
      if (step->value("add_prefix_space", false)) fail(ErrorKind::kUnsupported, path, ": ByteLevel add_prefix_space is not supported");
      if (step->value("use_regex", true)) {
        if (!pattern.empty()) fail(ErrorKind::kUnsupported, path, ": two pre-tokenizer regexes");
        pattern = std::string(kGpt2Pattern);
      }
    } else {
      fail(ErrorKind::kUnsupported, path, ": pre-tokenizer type '", type, "' is not supported");
    }
  }
  if (!byte_level) fail(ErrorKind::kUnsupported, path, ": only byte-level BPE tokenizers are supported");
  return pattern;
}

void check_normalizer(const Json& normalizer, const std::string& path) {
  if (normalizer.is_null()) fail(ErrorKind::kUnsupported, path, ": a tokenizer without NFC normalization is not supported");
  const std::string type = normalizer.value("type", "");
  if (type == "NFC") return;
  if (type == "Sequence") {
    const Json& list = normalizer.at("normalizers");
    if (list.size() == 1 && list[0].value("type", "") == "NFC") return;
  }
  fail(ErrorKind::kUnsupported, path, ": normalizer '", normalizer.dump(), "' is not supported (only NFC)");
}

}  // namespace

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path) {
  VocabMergesStream stream;
  stream.vocab_path = {"model", "vocab"};
  stream.merges_path = {"model", "merges"};
  const Json doc = stream.parse(read_file(path), path);
  try {
    if (!doc.is_object()) fail(ErrorKind::kCorrupt, path, ": not a JSON object");
    const Json& model = doc.at("model");
    if (!model.is_object()) fail(ErrorKind::kCorrupt, path, ": 'model' is not an object");
    if (model.value("type", "BPE") != "BPE") {
      fail(ErrorKind::kUnsupported, path, ": model type '", model.value("type", ""), "' is not BPE");
    }
    if (!stream.saw_vocab) fail(ErrorKind::kCorrupt, path, ": model.vocab is missing or not an object");
    if (!stream.saw_merges) fail(ErrorKind::kCorrupt, path, ": model.merges is missing or not an array");
    if (!stream.bad_merges.empty()) {
      fail(ErrorKind::kCorrupt, path, ": a merge is neither \"a b\" nor [\"a\", \"b\"]: ",
           stream.bad_merges.front());
    }
    check_normalizer(doc.value("normalizer", Json()), path);
    const std::string pattern = pretokenizer_pattern(doc.value("pre_tokenizer", Json()), path);
    std::vector<AddedToken> added;
    for (const Json& entry : doc.value("added_tokens", Json::array())) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer()) {
        fail(ErrorKind::kCorrupt, path, ": an added token has no integer 'id'");
      }
      added.push_back(parse_added_token(entry, entry["id"].get<int64_t>(), path));
    }
    BpeModel bpe;
    bpe.reserve(stream.vocab.size(), stream.merges.size());
    add_vocab(bpe, stream.vocab, added, path);
    for (const auto& [left, right] : stream.merges) add_merge(bpe, left, right, path);
    return Tokenizer(std::move(bpe), std::move(added), pattern);
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, path, ": unexpected structure: ", e.what());
  }
}

Tokenizer Tokenizer::from_vocab_merges(const std::string& vocab_path, const std::string& merges_path,
                                       const std::string& config_path) {
  std::vector<AddedToken> added;
  {
    const Json config = read_json_file(config_path);
    try {
      if (!config.is_object()) fail(ErrorKind::kCorrupt, config_path, ": not a JSON object");
      const Json decoder = config.value("added_tokens_decoder", Json::object());
      if (!decoder.is_object()) fail(ErrorKind::kCorrupt, config_path, ": added_tokens_decoder is not an object");
      for (const auto& [key, entry] : decoder.items()) {
        size_t used = 0;
        int64_t id = -1;
        try {
          id = std::stoll(key, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != key.size()) {
          fail(ErrorKind::kCorrupt, config_path, ": added_tokens_decoder key '", key, "' is not an id");
        }
        added.push_back(parse_added_token(entry, id, config_path));
      }
    } catch (const Json::exception& e) {
      fail(ErrorKind::kCorrupt, config_path, ": unexpected structure: ", e.what());
    }
  }
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
  add_vocab(bpe, stream.vocab, added, vocab_path);
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
  return Tokenizer(std::move(bpe), std::move(added), kQwen2Pattern);
}

Tokenizer Tokenizer::load(const std::string& model_dir) {
  const std::string json_path = model_dir + "/tokenizer.json";
  if (file_exists(json_path)) return from_tokenizer_json(json_path);
  const std::string vocab = model_dir + "/vocab.json", merges = model_dir + "/merges.txt";
  if (!file_exists(vocab) || !file_exists(merges)) {
    fail(ErrorKind::kNotFound, model_dir, ": no tokenizer.json, and no vocab.json + merges.txt");
  }
  return from_vocab_merges(vocab, merges, model_dir + "/tokenizer_config.json");
}

}  // namespace kantu::text
