// The LLaMA SentencePiece tokenizer three ways, against the reference library:
//   - tokenizer.model through libsentencepiece (the goldens' ids, legacy and not);
//   - the tokenizer.json transformers' LlamaConverter makes of it, through kantu's BPE
//     (converted here the way the converter does it, then compared id for id);
//   - llama.cpp's GGUF vocabulary ("llama": tokens, scores, types) made back into a model.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <random>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "support/gguf_builder.h"
#include "support/expect_error.h"
#include "support/testdata.h"
#include "text/sentencepiece_model.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

namespace kantu::text {
namespace {

std::string llava_dir() { return test::testdata("models/llava-next-tiny-a"); }

const Tokenizer& sp_tok() {
  static const Tokenizer t = Tokenizer::load(llava_dir());
  return t;
}

SentencePieceModel sp_model() {
  const std::string path = llava_dir() + "/tokenizer.model";
  return parse_sentencepiece_model(read_file(path), path);
}

// Texts that exercise the dummy prefix, runs of spaces, newlines, byte fallback (CJK,
// emoji, controls), combining marks, numbers and markup.
std::vector<std::string> corpus() {
  std::vector<std::string> texts = {
      "Hello world", " Hello world", "Hello  world", "  leading", "trailing  ", "\n", "\nWhat",
      "a\n\nb", "tab\there", "USER: ", "ASSISTANT:", "1234567890 3.14159 -42", "x=y+z*(a-b)/c;",
      "你好，世界", "日本語のテキスト", "🦙🦙 llama", "e\xCC\x81t\xC3\xA9", "Ωμέγα", "naïve café",
      "<s> not a control", "</s>", "<unk>", "<0x0A>", "\xE2\x96\x81 literal metaspace",
      "\x01\x02 controls", "A chat between a curious human and an artificial intelligence assistant.",
      std::string(300, 'a'), std::string(50, ' '), "https://example.com/path?q=1&r=2#frag",
      "def f(x):\n    return x ** 2\n", "¿Qué tal? Ça va!", "ÄÖÜ äöü ß", "\u00a0nbsp\u3000ideographic"};
  // Random mixes of the pieces above, seeded.
  std::mt19937 rng(7);
  const std::vector<std::string> parts = {"the", " ", "  ", "\n", "猫", "🙂", "ing", "Ü", "42", ".", "\t", "▁", "é"};
  for (int i = 0; i < 200; ++i) {
    std::string s;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int k = 0; k < n; ++k) s += parts[rng() % parts.size()];
    texts.push_back(s);
  }
  return texts;
}

size_t code_points(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

// transformers' LlamaConverter (4.57): BPE vocab = the pieces, merges = every split of a
// piece into two pieces, ordered by the piece's score (descending), then the lengths of
// the left and right parts (descending), ties in vocabulary order.
std::string llama_tokenizer_json(bool legacy) {
  const SentencePieceModel model = sp_model();
  std::map<std::string, int> vocab;
  for (size_t i = 0; i < model.pieces.size(); ++i) vocab[model.pieces[i].piece] = static_cast<int>(i);
  struct Merge {
    std::string left, right;
    float score;
  };
  std::vector<Merge> merges;
  for (const SentencePieceEntry& p : model.pieces) {
    std::vector<Merge> local;
    for (size_t cut = 1; cut < p.piece.size(); ++cut) {
      if ((p.piece[cut] & 0xC0) == 0x80) continue;  // split between code points only
      const std::string l = p.piece.substr(0, cut), r = p.piece.substr(cut);
      if (vocab.count(l) && vocab.count(r)) local.push_back({l, r, p.score});
    }
    std::sort(local.begin(), local.end(), [&](const Merge& a, const Merge& b) {
      return std::pair(vocab[a.left], vocab[a.right]) < std::pair(vocab[b.left], vocab[b.right]);
    });
    merges.insert(merges.end(), local.begin(), local.end());
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    const auto key = [](const Merge& m) { return std::tuple(m.score, code_points(m.left), code_points(m.right)); };
    return key(a) > key(b);
  });
  Json doc;
  Json v = Json::object();
  for (const auto& [piece, id] : vocab) v[piece] = id;
  Json m = Json::array();
  for (const Merge& merge : merges) m.push_back(Json::array({merge.left, merge.right}));
  doc["model"] = Json::parse(R"({"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": true})");
  doc["model"]["vocab"] = std::move(v);
  doc["model"]["merges"] = std::move(m);
  doc["added_tokens"] = Json::parse(R"([
      {"id": 0, "content": "<unk>", "special": true, "normalized": false},
      {"id": 1, "content": "<s>", "special": true, "normalized": false},
      {"id": 2, "content": "</s>", "special": true, "normalized": false},
      {"id": 32000, "content": "<image>", "special": true, "normalized": false}])");
  doc["decoder"] = Json::parse(R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  if (legacy) {
    doc["normalizer"] = Json::parse(R"({"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "▁"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]})");
    doc["pre_tokenizer"] = nullptr;
  } else {
    doc["normalizer"] = nullptr;
    doc["pre_tokenizer"] = Json::parse(
        R"({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false})");
  }
  doc["post_processor"] = Json::parse(R"({"type": "TemplateProcessing", "single": [
      {"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]})");
  return doc.dump();
}

// skip_leading_space: the slow non-legacy tokenizer keeps a leading space as its own "▁"
// where the fast one's Metaspace does not; each side follows its own reference there.
void expect_same_ids(const Tokenizer& a, const Tokenizer& b, bool skip_leading_space = false) {
  for (const std::string& text : corpus()) {
    if (skip_leading_space && (text.starts_with(' ') || text.starts_with("\xE2\x96\x81"))) continue;
    SCOPED_TRACE(text);
    for (AddedTokenMode mode : {AddedTokenMode::kAll, AddedTokenMode::kNonSpecial, AddedTokenMode::kNone}) {
      ASSERT_EQ(a.encode(text, mode), b.encode(text, mode));
    }
    ASSERT_EQ(a.encode("x<image>" + text, AddedTokenMode::kAll), b.encode("x<image>" + text, AddedTokenMode::kAll));
    ASSERT_EQ(a.encode(text, AddedTokenMode::kAll, false), b.encode(text, AddedTokenMode::kAll, false));
    const auto ids = a.encode(text, AddedTokenMode::kAll);
    ASSERT_EQ(a.decode(ids), b.decode(ids));
  }
}

TEST(SentencePieceTokenizer, GoldenIdsWithTheLegacyPrefix) {
  // goldens/llava/README.md: the official ids have 29871 before the newline after <image>.
  const std::vector<int32_t> expected = {3148, 1001, 29901, 29871, 32000, 29871, 13, 5618};
  EXPECT_EQ(sp_tok().encode("USER: <image>\nWhat", AddedTokenMode::kAll), expected);
  EXPECT_EQ(sp_tok().bos_id(), 1);
  EXPECT_EQ(sp_tok().vocab_size(), 32001);
  EXPECT_EQ(sp_tok().id_to_token(29871), "▁");
  EXPECT_EQ(sp_tok().id_to_token(13), "<0x0A>");
  EXPECT_EQ(sp_tok().token_to_id("▁image"), 1967);
  EXPECT_TRUE(sp_tok().is_special(32000));
  EXPECT_TRUE(sp_tok().is_special(2));
  // User text never becomes a control token.
  const auto ids = sp_tok().encode("<image></s><s>", AddedTokenMode::kNonSpecial);
  for (int32_t id : ids) EXPECT_FALSE(sp_tok().is_added(id)) << id;
}

TEST(SentencePieceTokenizer, DecodeDropsTheDummyPrefixOnceAndRoundTrips) {
  EXPECT_EQ(sp_tok().decode(std::vector<int32_t>{450, 6862}), "The square");
  EXPECT_EQ(sp_tok().decode(std::vector<int32_t>{1, 450, 6862, 2}, true), "The square");
  for (const std::string& text : corpus()) {
    if (text.find("\xE2\x96\x81") != std::string::npos) continue;  // a literal "▁" decodes as a space
    EXPECT_EQ(sp_tok().decode(sp_tok().encode(text, AddedTokenMode::kNone)), text) << text;
  }
  // Streaming gives the same text as decode, split anywhere.
  const auto ids = sp_tok().encode(" 你好 🦙\nThe end", AddedTokenMode::kNone);
  StreamDecoder stream(sp_tok());
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, sp_tok().decode(ids));
}

TEST(SentencePieceTokenizer, NonLegacyPutsThePrefixOnlyAtTheStart) {
  const std::string dir = test::make_temp_dir("sp_nonlegacy");
  std::filesystem::copy_file(llava_dir() + "/tokenizer.model", dir + "/tokenizer.model");
  Json config = Json::parse(read_file(llava_dir() + "/tokenizer_config.json"));
  config["legacy"] = false;
  test::write_text_file(dir + "/tokenizer_config.json", config.dump());
  const Tokenizer tok = Tokenizer::load(dir);
  // No 29871 after <image>: "\nWhat" is the newline byte and "What".
  EXPECT_EQ(tok.encode("USER: <image>\nWhat", AddedTokenMode::kAll),
            (std::vector<int32_t>{3148, 1001, 29901, 29871, 32000, 13, 5618}));
  EXPECT_EQ(tok.encode(" Hey", AddedTokenMode::kAll), sp_tok().encode(" Hey", AddedTokenMode::kAll));
}

TEST(SentencePieceTokenizer, TokenizerJsonGivesTheLibrarysIds) {
  for (bool legacy : {true, false}) {
    SCOPED_TRACE(legacy ? "legacy" : "non-legacy");
    const std::string dir = test::make_temp_dir("sp_json");
    test::write_text_file(dir + "/tokenizer.json", llama_tokenizer_json(legacy));
    Json config = Json::parse(read_file(llava_dir() + "/tokenizer_config.json"));
    config["legacy"] = legacy;
    test::write_text_file(dir + "/tokenizer_config.json", config.dump());
    const Tokenizer json_tok = Tokenizer::load(dir);  // no tokenizer.model here
    EXPECT_EQ(json_tok.bos_id(), 1);
    EXPECT_TRUE(json_tok.strips_leading_space());
    std::filesystem::copy_file(llava_dir() + "/tokenizer.model", dir + "/model.model");
    const Tokenizer reference = Tokenizer::from_sentencepiece(dir + "/model.model", dir + "/tokenizer_config.json");
    expect_same_ids(reference, json_tok, !legacy);
  }
}

std::string gguf_vocab(const SentencePieceModel& model, int vocab_size) {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (const SentencePieceEntry& p : model.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(static_cast<int32_t>(p.type));
  }
  tokens.push_back("<image>");  // as llama.cpp's converter writes an added special token
  scores.push_back(-1000.0f);
  types.push_back(3);
  while (static_cast<int>(tokens.size()) < vocab_size) {
    tokens.push_back("[PAD" + std::to_string(tokens.size()) + "]");
    scores.push_back(-1000.0f);
    types.push_back(5);
  }
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", "llama").str("tokenizer.ggml.pre", "default").strs("tokenizer.ggml.tokens", tokens)
      .f32s("tokenizer.ggml.scores", scores).i32s("tokenizer.ggml.token_type", types)
      .u32("tokenizer.ggml.bos_token_id", 1).u32("tokenizer.ggml.eos_token_id", 2)
      .u32("tokenizer.ggml.unknown_token_id", 0).boolean("tokenizer.ggml.add_bos_token", true);
  return b.build();
}

TEST(SentencePieceTokenizer, GgufVocabularyGivesTheFoldersIds) {
  const GgufFile f = GgufFile::parse(gguf_vocab(sp_model(), 32064), "llava.gguf");
  const Tokenizer gguf_tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(gguf_tok.bos_id(), 1);
  EXPECT_FALSE(gguf_tok.is_valid(32010));  // padding rows have no text
  expect_same_ids(sp_tok(), gguf_tok);
}


TEST(SentencePieceTokenizer, BadModelFilesAreClearErrors) {
  const std::string good = read_file(llava_dir() + "/tokenizer.model");
  const std::string dir = test::make_temp_dir("sp_bad");
  const std::string path = dir + "/tokenizer.model";
  for (const std::string& bad : {std::string(), good.substr(0, good.size() / 2), good.substr(0, 7),
                                 std::string("\x0a\xff\xff\xff\xff\x0f", 6), std::string(1000, '\xff'),
                                 std::string("not a model at all")}) {
    test::write_text_file(path, bad);
    test::expect_error([&] { Tokenizer::from_sentencepiece(path, ""); }, ErrorKind::kCorrupt, "tokenizer.model");
  }
  test::write_text_file(path, good);
  const Tokenizer ok = Tokenizer::from_sentencepiece(path, "");
  test::expect_error([&] { ok.encode("bad \xff utf-8", AddedTokenMode::kAll); }, ErrorKind::kInvalidArgument, "UTF-8");
  test::write_text_file(dir + "/tokenizer_config.json", R"({"legacy": "yes"})");
  test::expect_error([&] { Tokenizer::from_sentencepiece(path, dir + "/tokenizer_config.json"); }, ErrorKind::kCorrupt, "legacy");
  // A GGUF vocabulary whose scores do not match its tokens.
  const GgufFile f = GgufFile::parse(
      test::GgufBuilder().str("tokenizer.ggml.model", "llama").strs("tokenizer.ggml.tokens", {"a", "b"})
          .f32s("tokenizer.ggml.scores", {0.0f}).build(),
      "bad.gguf");
  test::expect_error([&] { Tokenizer::from_gguf(f); }, ErrorKind::kCorrupt, "tokenizer.ggml.scores");
}

}  // namespace
}  // namespace kantu::text
