// The tokenizer against the reference goldens (transformers 4.57 Qwen2Tokenizer).
#include <gtest/gtest.h>

#include "core/json.h"
#include "support/testdata.h"
#include "text/tokenizer.h"

namespace kantu::text {
namespace {

const Tokenizer& slow_files_tokenizer() {
  static const Tokenizer t = [] {
    const std::string dir = test::testdata("models/qwen3vl-tiny-a");
    return Tokenizer::from_vocab_merges(dir + "/vocab.json", dir + "/merges.txt",
                                        dir + "/tokenizer_config.json");
  }();
  return t;
}

const Tokenizer& json_tokenizer() {
  static const Tokenizer t =
      Tokenizer::from_tokenizer_json(test::testdata("models/qwen3vl-tiny-c/tokenizer.json"));
  return t;
}

const Json& tok_golden() {
  static const Json g = read_json_file(test::testdata("goldens/qwen3vl/tokenizer.json"));
  return g;
}

std::vector<int32_t> golden_ids(const Json& j) { return j.get<std::vector<int32_t>>(); }

void check_all_cases(const Tokenizer& tok) {
  const Json& cases = tok_golden().at("cases");
  ASSERT_GT(cases.size(), 50u);
  for (const Json& c : cases) {
    const std::string text = c.at("text").get<std::string>();
    SCOPED_TRACE(text.substr(0, 80));
    const auto ids = golden_ids(c.at("ids"));
    const auto split_ids = golden_ids(c.at("ids_split_special_tokens"));
    EXPECT_EQ(tok.encode(text, true), ids);
    EXPECT_EQ(tok.encode(text, false), split_ids);
    EXPECT_EQ(tok.decode(ids), c.at("decode").get<std::string>());
    EXPECT_EQ(tok.decode(ids, /*skip_special=*/true), c.at("decode_skip_special").get<std::string>());
    EXPECT_EQ(tok.decode(split_ids), c.at("decode_split_special_ids").get<std::string>());
    if (c.at("roundtrip_exact").get<bool>()) {
      EXPECT_EQ(tok.decode(ids), text);
    }
    const Json& tokens = c.at("tokens");
    ASSERT_EQ(tokens.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(tok.id_to_token(ids[i]), tokens[i].get<std::string>());
      EXPECT_EQ(tok.token_to_id(tokens[i].get<std::string>()), ids[i]);
    }
  }
}

TEST(TokenizerGolden, VocabMergesFilesMatchEveryCase) { check_all_cases(slow_files_tokenizer()); }

TEST(TokenizerGolden, TokenizerJsonMatchesEveryCase) { check_all_cases(json_tokenizer()); }

TEST(TokenizerGolden, AddedTokensAndSizes) {
  for (const Tokenizer* tok : {&slow_files_tokenizer(), &json_tokenizer()}) {
    EXPECT_EQ(tok->vocab_size(), tok_golden().at("len_tokenizer").get<int32_t>());
    for (const auto& [content, id] : tok_golden().at("added_tokens").items()) {
      EXPECT_EQ(tok->token_to_id(content), id.get<int32_t>()) << content;
      EXPECT_EQ(tok->id_to_token(id.get<int32_t>()), content);
      EXPECT_TRUE(tok->is_added(id.get<int32_t>()));
    }
    EXPECT_TRUE(tok->is_special(151644));   // <|im_start|>
    EXPECT_TRUE(tok->is_special(151655));   // <|image_pad|>
    EXPECT_FALSE(tok->is_special(151667));  // <think> is added but not special
    EXPECT_FALSE(tok->is_special(872));
  }
}

}  // namespace
}  // namespace kantu::text
