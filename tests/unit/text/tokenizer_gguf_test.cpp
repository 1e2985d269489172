// The tokenizer built from GGUF metadata (as llama.cpp's converter writes the tiny
// model's vocabulary) against the same reference goldens as the Hugging Face files.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/json.h"
#include "formats/gguf.h"
#include "support/gguf_builder.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"
#include "text/tokenizer.h"

namespace kantu::text {
namespace {

const GgufFile& tiny_gguf() {
  static const GgufFile f = [] {
    const auto pair = test::write_gguf_pair(test::testdata("models/qwen3vl-tiny-a"),
                                            test::make_temp_dir("tok_gguf"), DType::kBF16);
    return GgufFile::open(pair.model);
  }();
  return f;
}

const Json& gguf_golden() {
  static const Json g = read_json_file(test::testdata("goldens/qwen3vl/tokenizer.json"));
  return g;
}

std::vector<int32_t> gguf_ids(const Json& j) { return j.get<std::vector<int32_t>>(); }

TEST(TokenizerGguf, MatchesEveryGoldenCase) {
  const Tokenizer tok = Tokenizer::from_gguf(tiny_gguf());
  const Json& cases = gguf_golden().at("cases");
  ASSERT_GT(cases.size(), 50u);
  for (const Json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    SCOPED_TRACE(text.substr(0, 80));
    const auto ids = gguf_ids(c.at("ids"));
    const auto split_ids = gguf_ids(c.at("ids_split_special_tokens"));
    EXPECT_EQ(tok.encode(text, true), ids);
    EXPECT_EQ(tok.encode(text, false), split_ids);
    EXPECT_EQ(tok.decode(ids), c.at("decode").get<std::string>());
    EXPECT_EQ(tok.decode(split_ids), c.at("decode_split_special_ids").get<std::string>());
    const Json& tokens = c.at("tokens");
    ASSERT_EQ(tokens.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(tok.id_to_token(ids[i]), tokens[i].get<std::string>());
    }
  }
}

TEST(TokenizerGguf, AddedTokensKeepTheirIdsAndKinds) {
  const Tokenizer tok = Tokenizer::from_gguf(tiny_gguf());
  EXPECT_EQ(tok.vocab_size(), gguf_golden().at("len_tokenizer").get<int32_t>());
  for (const auto& [content, id] : gguf_golden().at("added_tokens").items()) {
    EXPECT_EQ(tok.token_to_id(content), id.get<int32_t>()) << content;
    EXPECT_TRUE(tok.is_added(id.get<int32_t>()));
  }
  EXPECT_TRUE(tok.is_special(151644));   // <|im_start|>: CONTROL
  EXPECT_FALSE(tok.is_special(151667));  // <think>: USER_DEFINED
  EXPECT_FALSE(tok.is_valid(151700));    // an UNUSED padding row is no token
}

// A minimal byte-level vocabulary: the 256 byte tokens in GPT-2's spelling and one merge.
test::GgufBuilder tiny_vocab(const std::string& model, std::vector<int32_t> types = {},
                             const std::vector<std::string>& merges = {"a b"}) {
  std::vector<std::string> tokens;
  int shifted = 0;
  for (int b = 0; b < 256; ++b) {
    // GPT-2 bytes_to_unicode: printable Latin-1 map to themselves, the rest to U+0100 + n.
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    const int cp = printable ? b : 256 + shifted++;
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    tokens.push_back(s);
  }
  tokens.push_back("ab");
  if (types.empty()) types.assign(tokens.size(), 1);
  test::GgufBuilder b;
  b.str("tokenizer.ggml.model", model)
      .str("tokenizer.ggml.pre", "qwen2")
      .strs("tokenizer.ggml.tokens", tokens)
      .i32s("tokenizer.ggml.token_type", types)
      .strs("tokenizer.ggml.merges", merges);
  return b;
}

void expect_error(const std::string& bytes, ErrorKind kind, const std::string& fragment) {
  const GgufFile f = GgufFile::parse(bytes, "vocab.gguf");
  try {
    Tokenizer::from_gguf(f);
    ADD_FAILURE() << "no error for " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("vocab.gguf"), std::string::npos) << e.what();
  }
}

TEST(TokenizerGguf, SmallVocabularyEncodes) {
  const GgufFile f = GgufFile::parse(tiny_vocab("gpt2").build(), "vocab.gguf");
  const Tokenizer tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok.encode("ab", true), (std::vector<int32_t>{256}));
}

TEST(TokenizerGguf, BadVocabulariesAreClearErrors) {
  expect_error(tiny_vocab("bert").build(), ErrorKind::kUnsupported, "\"bert\"");
  expect_error(tiny_vocab("gpt2", {1, 1}).build(), ErrorKind::kCorrupt, "token_type has 2");
  std::vector<int32_t> bad(257, 1);
  bad[5] = 42;
  expect_error(tiny_vocab("gpt2", bad).build(), ErrorKind::kCorrupt, "unknown token type 42");
  expect_error(tiny_vocab("gpt2", {}, {"a zz"}).build(), ErrorKind::kCorrupt, "merges[0] 'a zz'");
  expect_error(tiny_vocab("gpt2", {}, {"ab"}).build(), ErrorKind::kCorrupt, "merges[0] 'ab'");
  test::GgufBuilder few_bytes;
  few_bytes.str("tokenizer.ggml.model", "gpt2").strs("tokenizer.ggml.tokens", {"a"}).strs(
      "tokenizer.ggml.merges", {});
  expect_error(few_bytes.build(), ErrorKind::kCorrupt, "256 single-byte");
  test::GgufBuilder no_merges;
  no_merges.str("tokenizer.ggml.model", "gpt2").strs("tokenizer.ggml.tokens", {"a"});
  expect_error(no_merges.build(), ErrorKind::kNotFound, "tokenizer.ggml.merges");
  expect_error(tiny_vocab("gpt2", {}, {}).build(), ErrorKind::kCorrupt, "merges is empty");
}

}  // namespace
}  // namespace kantu::text
