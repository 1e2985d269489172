// Loading a Tokenizer from tokenizer.json (the "fast" format): a byte-level BPE (Qwen2: NFC,
// a Split regex and ByteLevel) or a SentencePiece-style BPE (LLaMA: "▁" for spaces, merges
// over characters, byte fallback; text/metaspace_bpe_codec.h). tokenizer_config.json, when
// given, adds its added tokens and decides add_bos_token, as transformers does.
#include <algorithm>

#include "core/error.h"
#include "core/mapped_file.h"
#include "text/byte_level_codec.h"
#include "text/metaspace.h"
#include "text/metaspace_bpe_codec.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"
#include "text/tokenizer_build.h"
#include "text/vocab_stream.h"

namespace kantu::text {

namespace {

// GPT-2's pattern, for byte-level tokenizers whose ByteLevel pre-tokenizer does the split.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::vector<const Json*> steps_of(const Json& node, const char* list_key) {
  std::vector<const Json*> steps;
  if (node.is_null()) return steps;
  if (node.value("type", "") == "Sequence") {
    for (const Json& step : node.at(list_key)) steps.push_back(&step);
  } else {
    steps.push_back(&node);
  }
  return steps;
}

bool uses_byte_level(const Json& pre) {
  for (const Json* step : steps_of(pre, "pretokenizers")) {
    if (step->value("type", "") == "ByteLevel") return true;
  }
  return false;
}

// The regex of a byte-level pre_tokenizer: a Split with a Regex pattern (possibly inside a
// Sequence), or GPT-2's when only a ByteLevel with use_regex does the split.
std::string pretokenizer_pattern(const Json& pre, const std::string& path) {
  std::string pattern;
  for (const Json* step : steps_of(pre, "pretokenizers")) {
    const std::string type = step->value("type", "");
    if (type == "Split") {
      const Json& p = step->at("pattern");
      if (!p.contains("Regex") || !pattern.empty()) fail(ErrorKind::kUnsupported, path, ": unsupported Split pre-tokenizer");
      pattern = p.at("Regex").get<std::string>();
    } else if (type == "ByteLevel") {
      if (step->value("add_prefix_space", false)) fail(ErrorKind::kUnsupported, path, ": ByteLevel add_prefix_space is not supported");
      if (step->value("use_regex", true)) {
        if (!pattern.empty()) fail(ErrorKind::kUnsupported, path, ": two pre-tokenizer regexes");
        pattern = std::string(kGpt2Pattern);
      }
    } else {
      fail(ErrorKind::kUnsupported, path, ": pre-tokenizer type '", type, "' is not supported");
    }
  }
  return pattern;
}

void check_nfc_normalizer(const Json& normalizer, const std::string& path) {
  if (normalizer.is_null()) fail(ErrorKind::kUnsupported, path, ": a tokenizer without NFC normalization is not supported");
  const std::string type = normalizer.value("type", "");
  if (type == "NFC") return;
  if (type == "Sequence") {
    const Json& list = normalizer.at("normalizers");
    if (list.size() == 1 && list[0].value("type", "") == "NFC") return;
  }
  fail(ErrorKind::kUnsupported, path, ": normalizer '", normalizer.dump(), "' is not supported (only NFC)");
}

MetaspaceOptions::Prepend prepend_scheme(const Json& step, const std::string& path) {
  if (step.contains("prepend_scheme")) {
    const std::string scheme = step.value("prepend_scheme", "");
    if (scheme == "always") return MetaspaceOptions::Prepend::kAlways;
    if (scheme == "first") return MetaspaceOptions::Prepend::kFirst;
    if (scheme == "never") return MetaspaceOptions::Prepend::kNever;
    fail(ErrorKind::kUnsupported, path, ": Metaspace prepend_scheme '", scheme, "' is not supported");
  }
  return step.value("add_prefix_space", true) ? MetaspaceOptions::Prepend::kAlways
                                              : MetaspaceOptions::Prepend::kNever;
}

// LlamaConverter's two forms: legacy normalizer Sequence[Prepend("▁"), Replace(" ", "▁")]
// with no pre-tokenizer, or no normalizer and a Metaspace pre-tokenizer.
MetaspaceOptions metaspace_options(const Json& doc, const std::string& path) {
  MetaspaceOptions options;
  options.prepend = MetaspaceOptions::Prepend::kNever;
  bool replaces_spaces = false;
  const Json normalizer = doc.value("normalizer", Json());
  for (const Json* step : steps_of(normalizer, "normalizers")) {
    const std::string type = step->value("type", "");
    if (type == "Prepend" && step->value("prepend", "") == kMetaspace) {
      options.prepend = MetaspaceOptions::Prepend::kAlways;
      options.prepend_before_space = true;
    } else if (type == "Replace" && step->at("pattern").value("String", "") == " " &&
               step->value("content", "") == kMetaspace) {
      replaces_spaces = true;
    } else {
      fail(ErrorKind::kUnsupported, path, ": normalizer '", step->dump(), "' is not supported");
    }
  }
  const Json pre = doc.value("pre_tokenizer", Json());
  for (const Json* step : steps_of(pre, "pretokenizers")) {
    if (step->value("type", "") != "Metaspace" || step->value("replacement", "") != kMetaspace) {
      fail(ErrorKind::kUnsupported, path, ": pre-tokenizer '", step->dump(), "' is not supported");
    }
    options.prepend = prepend_scheme(*step, path);
    options.prepend_before_space = false;
    options.split = step->value("split", true);
    replaces_spaces = true;
  }
  if (!replaces_spaces) {
    fail(ErrorKind::kUnsupported, path, ": neither a byte-level nor a \"▁\" (Metaspace) tokenizer");
  }
  const Json& model = doc.at("model");
  options.byte_fallback = model.value("byte_fallback", false);
  options.fuse_unk = model.value("fuse_unk", false);
  if (model.contains("continuing_subword_prefix") && !model["continuing_subword_prefix"].is_null() &&
      !model["continuing_subword_prefix"].get<std::string>().empty()) {
    fail(ErrorKind::kUnsupported, path, ": BPE continuing_subword_prefix is not supported");
  }
  return options;
}

// Whether the decoder drops the dummy prefix: Strip(" ", start 1) or a Metaspace decoder
// that prepends.
bool decoder_strips_space(const Json& decoder, const std::string& path) {
  for (const Json* step : steps_of(decoder, "decoders")) {
    const std::string type = step->value("type", "");
    if (type == "Strip" && step->value("content", "") == " " && step->value("start", 0) > 0) return true;
    if (type == "Metaspace") return prepend_scheme(*step, path) != MetaspaceOptions::Prepend::kNever;
  }
  return false;
}

// The special token TemplateProcessing puts first in a single sequence, if any.
std::string template_bos(const Json& post) {
  if (post.is_null() || post.value("type", "") != "TemplateProcessing") return "";
  const Json single = post.value("single", Json::array());
  if (!single.is_array() || single.empty() || !single[0].contains("SpecialToken")) return "";
  return single[0]["SpecialToken"].value("id", "");
}

}  // namespace

Tokenizer Tokenizer::from_tokenizer_json(const std::string& path, const std::string& config_path) {
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
    std::vector<AddedToken> added;
    for (const Json& entry : doc.value("added_tokens", Json::array())) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer()) {
        fail(ErrorKind::kCorrupt, path, ": an added token has no integer 'id'");
      }
      added.push_back(parse_added_token(entry, entry["id"].get<int64_t>(), path));
    }
    const TokenizerConfig config = read_tokenizer_config(config_path);
    merge_added(added, config.added);

    const Json pre = doc.value("pre_tokenizer", Json());
    const bool byte_level = uses_byte_level(pre);
    const Spelling spelling = byte_level ? Spelling::kByteLevel : Spelling::kRaw;
    TokenizerOptions options;
    std::shared_ptr<const TextCodec> codec;
    BpeModel bpe;
    bpe.reserve(stream.vocab.size(), stream.merges.size());
    if (byte_level) {
      check_nfc_normalizer(doc.value("normalizer", Json()), path);
      const std::string pattern = pretokenizer_pattern(pre, path);
      add_vocab(bpe, stream.vocab, added, path, spelling);
      for (const auto& [left, right] : stream.merges) add_merge(bpe, left, right, path, spelling);
      options.nfc = true;
      codec = std::make_shared<const ByteLevelCodec>(std::move(bpe), pattern);
    } else {
      MetaspaceOptions meta = metaspace_options(doc, path);
      // Added tokens (<s>, </s>, <unk>) stay out of the BPE, and so do the merges that would
      // build them ("<" + "s>"): text never becomes a control token, as with SentencePiece.
      add_vocab(bpe, stream.vocab, added, path, spelling);
      const auto is_added = [&](std::string_view token) {
        return std::any_of(added.begin(), added.end(), [&](const AddedToken& t) { return t.content == token; });
      };
      for (const auto& [left, right] : stream.merges) {
        if (is_added(left) || is_added(right) || is_added(left + right)) continue;
        add_merge(bpe, left, right, path, spelling);
      }
      if (model.contains("unk_token") && model["unk_token"].is_string()) {
        const std::string name = model["unk_token"].get<std::string>();
        std::optional<int32_t> unk;
        for (const AddedToken& t : added) {
          if (t.content == name) unk = t.id;
        }
        if (!unk && bpe.find(name) >= 0) unk = bpe.find(name);
        if (!unk) fail(ErrorKind::kCorrupt, path, ": model.unk_token is not in the vocabulary");
        meta.unk_id = unk;
      }
      options.strip_leading_space = decoder_strips_space(doc.value("decoder", Json()), path);
      codec = std::make_shared<const MetaspaceBpeCodec>(std::move(bpe), meta);
    }
    const std::string bos = template_bos(doc.value("post_processor", Json()));
    options.bos = resolve_bos(config, !bos.empty(), bos, added, *codec, path);
    return Tokenizer(std::move(codec), std::move(added), options);
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, path, ": unexpected structure: ", e.what());
  }
}

}  // namespace kantu::text
