// Bad input to the tokenizer: invalid UTF-8, unknown ids, missing or corrupt files.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/error.h"
#include "core/mapped_file.h"
#include "support/testdata.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace kantu::text {
namespace {

const Tokenizer& input_tok() {
  static const Tokenizer t = Tokenizer::load(test::testdata("models/qwen3vl-tiny-a"));
  return t;
}

void expect_error(const std::function<void()>& f, ErrorKind kind, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(TokenizerInput, InvalidUtf8IsRejected) {
  for (const std::string bad : {"\xff", "abc\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                "ok\xe4\xbd", "\x80"}) {
    expect_error([&] { input_tok().encode(bad, true); }, ErrorKind::kInvalidArgument, "invalid UTF-8");
    expect_error([&] { input_tok().encode(bad, false); }, ErrorKind::kInvalidArgument, "invalid UTF-8");
  }
}

TEST(TokenizerInput, EmbeddedNulAndLongRunsWork) {
  const std::string with_nul("a\0b", 3);
  EXPECT_EQ(input_tok().decode(input_tok().encode(with_nul, false)), with_nul);
  const std::string letters(200000, 'x');
  EXPECT_EQ(input_tok().decode(input_tok().encode(letters, false)), letters);
  std::string cjk;
  for (int i = 0; i < 20000; ++i) cjk += "\xe4\xbd\xa0\xe5\xa5\xbd";  // 你好 without spaces
  EXPECT_EQ(input_tok().decode(input_tok().encode(cjk, false)), cjk);
  const std::string spaces(100000, ' ');
  EXPECT_EQ(input_tok().decode(input_tok().encode(spaces, false)), spaces);
}

TEST(TokenizerInput, UnknownIdsAreRejected) {
  for (int32_t id : {-1, 151669, 1 << 30}) {
    const std::vector<int32_t> ids = {id};
    expect_error([&] { input_tok().decode(ids); }, ErrorKind::kInvalidArgument, "not in the vocabulary");
    expect_error([&] { input_tok().id_to_token(id); }, ErrorKind::kInvalidArgument, "not in the vocabulary");
  }
  EXPECT_FALSE(input_tok().token_to_id("no such token").has_value());
  EXPECT_FALSE(input_tok().token_to_id("\xff").has_value());
}

TEST(TokenizerInput, DecodeReplacesBrokenUtf8LikePython) {
  // "你" is e4 bd a0 = tokens 19526 (e4 bd) + 254 (a0) in Qwen's vocab; check via bytes.
  const auto ids = input_tok().encode("\xe4\xbd\xa0", false);
  ASSERT_FALSE(ids.empty());
  std::string lossy;
  append_utf8_lossy("\xe4\xbd", lossy);
  EXPECT_EQ(lossy, "\xef\xbf\xbd");  // one U+FFFD for the maximal subpart
  lossy.clear();
  append_utf8_lossy("a\xf0\x9f\x98x\xff", lossy);
  EXPECT_EQ(lossy, "a\xef\xbf\xbdx\xef\xbf\xbd");
}

class TokenizerFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("tokfiles");
    const std::string src = test::testdata("models/qwen3vl-tiny-a");
    for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json"}) {
      std::filesystem::copy_file(src + "/" + f, dir_ + "/" + f);
    }
  }
  void write(const std::string& name, const std::string& content) {
    test::write_text_file(dir_ + "/" + name, content);
  }
  std::string dir_;
};

TEST_F(TokenizerFiles, MissingFilesAreNamed) {
  std::filesystem::remove(dir_ + "/tokenizer_config.json");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kNotFound, "tokenizer_config.json");
  std::filesystem::remove(dir_ + "/merges.txt");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kNotFound, dir_);
  expect_error([&] { Tokenizer::load(dir_ + "/nowhere"); }, ErrorKind::kNotFound, "nowhere");
}

TEST_F(TokenizerFiles, CorruptVocabIsNamed) {
  write("vocab.json", "{\"a\": 0, ");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "vocab.json");
  write("vocab.json", "[1, 2]");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "vocab.json");
  write("vocab.json", "{\"a\": \"zero\"}");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "vocab.json");
  write("vocab.json", "{\"a\": 0, \"b\": 1}");  // lacks most single bytes
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "single-byte");
}

TEST_F(TokenizerFiles, CorruptMergesAreNamedWithTheLine) {
  write("merges.txt", "#version: 0.2\n\xc4\xa0 \xc4\xa0\nnot_a_token zz_not\n");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "merges.txt:3");
  write("merges.txt", "#version: 0.2\nabc\n");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "merges.txt:2");
  write("merges.txt", "#version: 0.2\n");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "no merges");
}

TEST_F(TokenizerFiles, CorruptConfigIsNamed) {
  write("tokenizer_config.json", "{");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "tokenizer_config.json");
  write("tokenizer_config.json", R"({"added_tokens_decoder": {"x": {"content": "<a>"}}})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "tokenizer_config.json");
  write("tokenizer_config.json", R"({"added_tokens_decoder": {"151643": {"special": true}}})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "content");
  write("tokenizer_config.json", R"({"added_tokens_decoder": []})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "tokenizer_config.json");
}

TEST_F(TokenizerFiles, CorruptTokenizerJsonIsNamed) {
  write("tokenizer.json", "{\"model\": ");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "tokenizer.json");
  write("tokenizer.json", "{}");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "tokenizer.json");
  write("tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kUnsupported, "tokenizer.json");
  write("tokenizer.json",
        R"({"normalizer": {"type": "NFC"}, "pre_tokenizer": {"type": "ByteLevel", "use_regex": true},
            "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kCorrupt, "single-byte");
  write("tokenizer.json",
        R"({"normalizer": {"type": "NFKC"}, "pre_tokenizer": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": {}, "merges": []}})");
  expect_error([&] { Tokenizer::load(dir_); }, ErrorKind::kUnsupported, "normalizer");
}

}  // namespace
}  // namespace kantu::text
