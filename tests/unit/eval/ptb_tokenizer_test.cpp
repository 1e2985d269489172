#include "eval/ptb_tokenizer.h"

#include <gtest/gtest.h>

#include <map>

#include "core/json.h"
#include "support/testdata.h"

namespace kantu::eval {
namespace {

TEST(PtbTokenizer, MatchesEveryGoldenCase) {
  Json golden = read_json_file(test::testdata("goldens/metrics/ptb_tokenizer_cases.json"));
  std::vector<std::string> raw, expected;
  for (const Json& c : golden.at("cases")) {
    raw.push_back(c.at("raw").get<std::string>());
    expected.push_back(c.at("tokenized").get<std::string>());
  }
  ASSERT_GT(raw.size(), 20u);
  // As the goldens were made: one batch, one caption per line.
  std::vector<std::string> got = ptb_tokenize(raw);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < raw.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "raw: " << raw[i];
  // And each one alone.
  for (size_t i = 0; i < raw.size(); ++i)
    EXPECT_EQ(ptb_tokenize_one(raw[i]), expected[i]) << "raw: " << raw[i];
}

// All 6005 captions of the coco-caption demo against the original tokenizer's output.
TEST(PtbTokenizer, MatchesTheOriginalOnTheCocoDemo) {
  const std::string dir = test::testdata("data/coco-captions-demo1000/");
  Json annotations = read_json_file(dir + "en_captions_val2014.json");
  Json results = read_json_file(dir + "en_captions_val2014_fakecap_results.json");
  Json refs_golden = read_json_file(dir + "en_captions_val2014_references_after_tokenization.json");
  Json res_golden = read_json_file(dir + "en_captions_val2014_results_after_tokenization.json");

  std::map<std::string, std::vector<std::string>> refs_raw;
  for (const Json& a : annotations.at("annotations")) {
    std::string id = std::to_string(a.at("image_id").get<long long>());
    if (refs_golden.contains(id)) refs_raw[id].push_back(a.at("caption").get<std::string>());
  }
  std::vector<std::string> batch, expected;
  for (const auto& [id, caps] : refs_raw) {
    const Json& want = refs_golden.at(id);
    ASSERT_EQ(want.size(), caps.size()) << id;
    for (size_t i = 0; i < caps.size(); ++i) {
      batch.push_back(caps[i]);
      expected.push_back(want[i].get<std::string>());
    }
  }
  for (const Json& r : results) {
    std::string id = std::to_string(r.at("image_id").get<long long>());
    batch.push_back(r.at("caption").get<std::string>());
    expected.push_back(res_golden.at(id).at(0).get<std::string>());
  }
  ASSERT_EQ(batch.size(), 6005u);
  std::vector<std::string> got = ptb_tokenize(batch);
  ASSERT_EQ(got.size(), expected.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != expected[i] && ++mismatches <= 20)
      ADD_FAILURE() << "raw: " << batch[i] << "\n got: " << got[i] << "\nwant: " << expected[i];
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(PtbTokenizer, KeepsLineAlignmentWithEmbeddedLineBreaks) {
  std::vector<std::string> got = ptb_tokenize({"a\nb", "", "c\r\nd", "e\u2028f", ""});
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], "a b");
  EXPECT_EQ(got[1], "");
  EXPECT_EQ(got[2], "c d");
  EXPECT_EQ(got[3], "e f");
  EXPECT_EQ(got[4], "");
}

TEST(PtbTokenizer, SurvivesInvalidUtf8AndControlBytes) {
  std::string bad = "a\xff\xfe b\x01 c\xc3";
  EXPECT_EQ(ptb_tokenize_one(bad), "a b c");
  EXPECT_EQ(ptb_tokenize_one(std::string("x\0y", 3)), "x y");
}

TEST(PtbTokenizer, SplitsAndKeepsLikeTheReference) {
  EXPECT_EQ(ptb_tokenize_one("It's a dog. Isn't it?"), "it 's a dog is n't it");
  EXPECT_EQ(ptb_tokenize_one("I cannot see"), "i can not see");
  EXPECT_EQ(ptb_tokenize_one("c++ and C# [x] {y}"), "c++ and c# -lsb- x -rsb- -lcb- y -rcb-");
  EXPECT_EQ(ptb_tokenize_one("the <z> tag"), "the <z> tag");
}

TEST(JavaLowercase, HandlesSpecialCases) {
  EXPECT_EQ(java_lowercase("ABC"), "abc");
  EXPECT_EQ(java_lowercase("\u0130"), "i\u0307");
  EXPECT_EQ(java_lowercase("\u03A3\u0391\u03A3"), "\u03C3\u03B1\u03C2");
}

}  // namespace
}  // namespace kantu::eval
