// Streaming detokenization: characters split across tokens come out whole, and the stream
// always adds up to decode() of the same ids.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "support/testdata.h"
#include "text/stream_decoder.h"
#include "text/utf8.h"

namespace kantu::text {
namespace {

const Tokenizer& stream_tok() {
  static const Tokenizer t = Tokenizer::load(test::testdata("models/qwen3vl-tiny-a"));
  return t;
}

bool is_complete_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string stream(const std::vector<int32_t>& ids, bool skip_special, std::vector<std::string>* chunks) {
  StreamDecoder decoder(stream_tok(), skip_special);
  std::string all;
  for (int32_t id : ids) {
    std::string piece = decoder.push(id);
    EXPECT_TRUE(is_complete_utf8(piece)) << "broken UTF-8 emitted for id " << id;
    if (chunks) chunks->push_back(piece);
    all += piece;
  }
  all += decoder.flush();
  return all;
}

TEST(StreamDecoder, SplitCharactersComeOutWhole) {
  // Emoji and rare CJK take several byte-level tokens each (see the golden ids).
  const std::string text = "🚀 😶‍🌫️ ✅ 🦙🦙 你好，世界 👨‍👩‍👧‍👦 ქართული";
  const auto ids = stream_tok().encode(text, false);
  ASSERT_GT(ids.size(), 20u);
  std::vector<std::string> chunks;
  EXPECT_EQ(stream(ids, false, &chunks), text);
  // Some token must have produced nothing (a partial character was held back).
  EXPECT_NE(std::find(chunks.begin(), chunks.end(), std::string()), chunks.end());
}

TEST(StreamDecoder, MatchesDecodeWithSpecialTokensAndSkipping) {
  const std::string text = "<|im_start|>assistant\n🦙 llama<think>嗯</think><|im_end|>";
  const auto ids = stream_tok().encode(text, true);
  EXPECT_EQ(stream(ids, false, nullptr), stream_tok().decode(ids));
  EXPECT_EQ(stream(ids, true, nullptr), stream_tok().decode(ids, true));
  EXPECT_EQ(stream(ids, true, nullptr), "assistant\n🦙 llama<think>嗯</think>");
}

TEST(StreamDecoder, BrokenSequencesBecomeReplacementCharacters) {
  // The first byte-level token of " 🦙" (a space and the emoji's first bytes) alone, then
  // plain text: the dangling bytes can never complete, so they turn into U+FFFD exactly as
  // decode() does.
  const auto llama = stream_tok().encode(" 🦙", false);
  ASSERT_GE(llama.size(), 2u);
  std::vector<int32_t> ids = {llama[0]};
  const auto tail = stream_tok().encode("ok", false);
  ids.insert(ids.end(), tail.begin(), tail.end());
  EXPECT_EQ(stream(ids, false, nullptr), stream_tok().decode(ids));
  // A stream that ends mid-character is flushed as U+FFFD.
  StreamDecoder decoder(stream_tok());
  EXPECT_EQ(decoder.push(llama[0]), " ");
  EXPECT_EQ(decoder.flush(), "\xef\xbf\xbd");
  EXPECT_EQ(decoder.flush(), "");
}

// A model's output layer is padded past the tokenizer; a sampled padding id has no text
// (HF's decode drops it) and must neither fail the answer nor break a split character.
TEST(StreamDecoder, UnknownIdsAddNoText) {
  const auto llama = stream_tok().encode("🦙ok", false);
  ASSERT_GE(llama.size(), 2u);
  std::vector<int32_t> ids = {llama[0], stream_tok().vocab_size() + 17, -5};
  ids.insert(ids.end(), llama.begin() + 1, llama.end());
  EXPECT_EQ(stream(ids, false, nullptr), "🦙ok");
  // decode() itself stays strict: ids given by a user are checked.
  EXPECT_THROW(stream_tok().decode(ids), Error);
}

}  // namespace
}  // namespace kantu::text
