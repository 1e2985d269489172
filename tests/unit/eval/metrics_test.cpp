#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/json.h"
#include "eval/coco.h"
#include "eval/evaluate.h"
#include "eval/ngrams.h"
#include "eval/ptb_tokenizer.h"
#include "support/testdata.h"

namespace kantu::eval {
namespace {

constexpr double kTol = 1e-9;

void expect_bleu_stats(const BleuStats& got, const Json& want, const char* reflen_key,
                       const std::string& where) {
  EXPECT_EQ(got.testlen, want.at("testlen").get<int64_t>()) << where;
  EXPECT_EQ(got.reflen, want.at(reflen_key).get<int64_t>()) << where;
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(got.guess[k], want.at("guess")[k].get<int64_t>()) << where << " guess " << k;
    EXPECT_EQ(got.correct[k], want.at("correct")[k].get<int64_t>()) << where << " correct " << k;
  }
}

void expect_scores(const std::array<double, 4>& bleu, double rouge, double cider, const Json& want,
                   const std::string& where) {
  for (size_t k = 0; k < 4; ++k)
    EXPECT_NEAR(bleu[k], want.at("Bleu_" + std::to_string(k + 1)).get<double>(), kTol)
        << where << " Bleu_" << k + 1;
  EXPECT_NEAR(rouge, want.at("ROUGE_L").get<double>(), kTol) << where << " ROUGE_L";
  EXPECT_NEAR(cider, want.at("CIDEr").get<double>(), kTol) << where << " CIDEr";
}

TEST(Metrics, MatchEveryEdgeCaseGolden) {
  Json golden = read_json_file(test::testdata("goldens/metrics/bleu_rouge_cider_cases.json"));
  ASSERT_GT(golden.at("cases").size(), 10u);
  for (const Json& c : golden.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const bool pretokenized = c.at("input_is_pretokenized").get<bool>();
    // 1) The scorers on the golden tokenized text.
    std::vector<ScoringItem> items;
    for (const Json& img : c.at("images")) {
      ScoringItem item{img.at("candidate_tokenized").get<std::string>(), {}};
      for (const Json& r : img.at("refs_tokenized")) item.references.push_back(r.get<std::string>());
      items.push_back(item);
    }
    CorpusScores s = score_captions(items);
    for (size_t i = 0; i < items.size(); ++i) {
      const Json& want = c.at("images")[i].at("scores");
      std::string where = name + " image " + c.at("images")[i].at("image_id").get<std::string>();
      expect_scores(s.images[i].bleu, s.images[i].rouge_l, s.images[i].cider, want, where);
      expect_bleu_stats(s.images[i].bleu_stats, want.at("bleu_stats"), "reflen_closest", where);
    }
    expect_scores(s.bleu, s.rouge_l, s.cider, c.at("corpus"), name + " corpus");
    expect_bleu_stats(s.bleu_stats, c.at("corpus").at("bleu_stats"), "reflen", name + " corpus");

    // 2) The whole pipeline from the raw captions, through the COCO structures.
    Json annotations = {{"annotations", Json::array()}};
    Json results = Json::array();
    for (const Json& img : c.at("images")) {
      for (const Json& r : img.at("refs_raw"))
        annotations["annotations"].push_back({{"image_id", img.at("image_id")}, {"caption", r}});
      results.push_back({{"image_id", img.at("image_id")}, {"caption", img.at("candidate_raw")}});
    }
    CocoAnnotations coco = parse_coco_annotations(annotations, name);
    EvalOptions options;
    options.pretokenized = pretokenized;
    EvalResult full = evaluate_captions(coco, parse_coco_results(results, name, coco), options);
    expect_scores(full.scores.bleu, full.scores.rouge_l, full.scores.cider, c.at("corpus"),
                  name + " corpus from raw");
  }
}

TEST(Metrics, MatchTheCocoDemoPerImageAndCorpus) {
  const std::string dir = test::testdata("data/coco-captions-demo1000/");
  Json golden = read_json_file(test::testdata("goldens/metrics/coco_demo1000_scores.json"));
  const Json& corpus = golden.at("corpora")[0];
  CocoAnnotations coco = read_coco_annotations(dir + "en_captions_val2014.json");
  std::vector<CaptionResult> results =
      read_coco_results(dir + "en_captions_val2014_fakecap_results.json", coco);
  EvalResult r = evaluate_captions(coco, results, {});
  ASSERT_EQ(r.image_ids.size(), corpus.at("n_images").get<size_t>());
  expect_scores(r.scores.bleu, r.scores.rouge_l, r.scores.cider, corpus.at("corpus"), "corpus");
  expect_bleu_stats(r.scores.bleu_stats, corpus.at("corpus").at("bleu_stats"), "reflen", "corpus");
  Json per_image = eval_per_image_json(r);
  ASSERT_EQ(per_image.size(), corpus.at("per_image").size());
  for (const auto& [id, want] : corpus.at("per_image").items()) {
    ASSERT_TRUE(per_image.contains(id)) << id;
    const Json& got = per_image.at(id);
    for (const char* m : {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"})
      EXPECT_NEAR(got.at(m).get<double>(), want.at(m).get<double>(), kTol) << id << " " << m;
  }
  Json summary = eval_summary_json(r);
  EXPECT_FALSE(summary.at("corpus").contains("METEOR"));
  EXPECT_FALSE(summary.at("corpus").contains("SPICE"));
  EXPECT_EQ(summary.at("not_computed"), Json({"METEOR", "SPICE"}));
}

TEST(Metrics, SingleImageCorpusHasZeroCider) {
  CorpusScores s = score_captions({{"a dog runs", {"a dog runs", "the dog is running"}}});
  EXPECT_EQ(s.cider, 0.0);
  EXPECT_GT(s.bleu[0], 0.99);
}

TEST(Metrics, RejectEmptyInputs) {
  EXPECT_THROW(score_captions({}), Error);
  EXPECT_THROW(score_captions({{"a", {}}}), Error);
}

TEST(Ngrams, SplitLikePython) {
  EXPECT_EQ(split_whitespace("  a \u00A0b\tc\u3000 ").size(), 3u);
  EXPECT_EQ(split_spaces("a  b").size(), 3u);
  EXPECT_EQ(split_spaces("").size(), 1u);
}

}  // namespace
}  // namespace kantu::eval
