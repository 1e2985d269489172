#include "eval/coco.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace kantu::eval {
namespace {

CocoAnnotations sample() {
  return parse_coco_annotations(
      parse_json(R"({"images": [{"id": 1, "file_name": "a.jpg"}, {"id": "x", "file_name": "b.jpg"}],
                    "annotations": [{"image_id": 1, "caption": "a cat"},
                                    {"image_id": "x", "caption": "a dog"},
                                    {"image_id": 1, "caption": "one cat"}]})",
                 "t"),
      "ann.json");
}

TEST(Coco, ParsesIntegerAndStringIds) {
  CocoAnnotations a = sample();
  EXPECT_EQ(a.captions.at("1").size(), 2u);
  EXPECT_EQ(a.captions.at("x").size(), 1u);
  EXPECT_EQ(a.file_names.at("x"), "b.jpg");
  EXPECT_EQ(a.image_ids, (std::vector<std::string>{"1", "x"}));
  auto r = parse_coco_results(parse_json(R"([{"image_id": "1", "caption": "c"}])", "t"), "r", a);
  EXPECT_EQ(r[0].image_id, "1");
  Json back = results_to_json({{"1", "c"}, {"x", "d"}});
  EXPECT_TRUE(back[0]["image_id"].is_number_integer());
  EXPECT_TRUE(back[1]["image_id"].is_string());
}

void expect_error(const std::string& results_text, const std::string& needle) {
  CocoAnnotations a = sample();
  try {
    parse_coco_results(parse_json(results_text, "t"), "res.json", a);
    ADD_FAILURE() << "no error for " << results_text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Coco, RejectsBadResults) {
  expect_error("[]", "empty");
  expect_error("{}", "must be a JSON list");
  expect_error(R"([{"caption": "a"}])", "image_id");
  expect_error(R"([{"image_id": 1}])", "caption");
  expect_error(R"([{"image_id": 1, "caption": 3}])", "caption");
  expect_error(R"([{"image_id": 7, "caption": "a"}])", "no annotation");
  expect_error(R"([{"image_id": 1, "caption": "a"}, {"image_id": 1, "caption": "b"}])", "second");
  expect_error(R"([{"image_id": 1.5, "caption": "a"}])", "integer or a non-empty string");
}

TEST(Coco, RejectsBadAnnotations) {
  EXPECT_THROW(parse_coco_annotations(parse_json("[]", "t"), "a"), Error);
  EXPECT_THROW(parse_coco_annotations(parse_json(R"({"annotations": []})", "t"), "a"), Error);
  EXPECT_THROW(parse_coco_annotations(parse_json(R"({"annotations": [{"caption": "x"}]})", "t"), "a"),
               Error);
  EXPECT_THROW(
      parse_coco_annotations(parse_json(R"({"annotations": [{"image_id": 1}]})", "t"), "a"), Error);
  EXPECT_THROW(parse_coco_annotations(
                   parse_json(R"({"images": [{}], "annotations": [{"image_id": 1, "caption": "x"}]})", "t"),
                   "a"),
               Error);
  EXPECT_THROW(parse_json("{not json", "ann.json"), Error);
}

}  // namespace
}  // namespace kantu::eval
