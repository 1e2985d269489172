#include "formats/json_fields.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "folder_fixture.h"

namespace kantu {
namespace {

const Json kDoc = Json::parse(R"({
  "n": 64, "f": 64.0, "frac": 1.5, "neg": -3, "zero": 0, "big": 1e30, "s": "x", "b": true,
  "null": null, "list": [1, 2, 3], "nums": [0.5, 1], "badlist": [1, "2"],
  "sub": {"deep": {"k": "v"}, "n": "64"}
})");

TEST(JsonFields, ReadsTypedValues) {
  JsonFields f(kDoc, "c.json");
  EXPECT_EQ(f.positive_int("n"), 64);
  EXPECT_EQ(f.positive_int("f"), 64);  // integral floats are integers
  EXPECT_EQ(f.integer("neg"), -3);
  EXPECT_EQ(f.non_negative_int("zero"), 0);
  EXPECT_DOUBLE_EQ(f.number("frac"), 1.5);
  EXPECT_DOUBLE_EQ(f.number("n"), 64.0);
  EXPECT_EQ(f.string("s"), "x");
  EXPECT_TRUE(f.boolean("b"));
  EXPECT_EQ(f.non_negative_int_list("list"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(f.number_list("nums"), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(f.int_or_int_list("n"), std::vector<int64_t>{64});
  EXPECT_EQ(f.int_or_int_list("list"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(f.int_or_int_list("absent").empty());
  EXPECT_EQ(f.object("sub").object("deep").string("k"), "v");
}

TEST(JsonFields, AbsentAndNullUseTheFallback) {
  JsonFields f(kDoc, "c.json");
  EXPECT_FALSE(f.has("null"));
  EXPECT_FALSE(f.has("absent"));
  EXPECT_EQ(f.positive_int("absent", 7), 7);
  EXPECT_EQ(f.positive_int("null", 7), 7);
  EXPECT_EQ(f.string("absent", "d"), "d");
  EXPECT_FALSE(f.boolean("absent", false));
  EXPECT_FALSE(f.optional_non_negative_int("absent").has_value());
  EXPECT_FALSE(f.optional_object("absent").has_value());
  // A present value of the wrong type is an error even with a fallback.
  test::expect_error([&] { f.positive_int("s", 7); }, ErrorKind::kCorrupt, {"c.json: s must be"});
}

TEST(JsonFields, ErrorsNameTheFileAndTheFullPath) {
  JsonFields f(kDoc, "config.json");
  const JsonFields sub = f.object("sub");
  test::expect_error([&] { sub.positive_int("n"); }, ErrorKind::kCorrupt,
                     {"config.json: sub.n must be a positive integer"});
  test::expect_error([&] { sub.object("deep").string("missing"); }, ErrorKind::kNotFound,
                     {"config.json: sub.deep.missing is missing"});
  test::expect_error([&] { f.positive_int("zero"); }, ErrorKind::kCorrupt, {"zero must be a positive"});
  test::expect_error([&] { f.positive_int("frac"); }, ErrorKind::kCorrupt, {"frac"});
  test::expect_error([&] { f.positive_int("big"); }, ErrorKind::kCorrupt, {"big"});
  test::expect_error([&] { f.positive_int("b"); }, ErrorKind::kCorrupt, {"b must be"});
  test::expect_error([&] { f.non_negative_int("neg"); }, ErrorKind::kCorrupt, {"neg"});
  test::expect_error([&] { f.string("n"); }, ErrorKind::kCorrupt, {"n must be a string"});
  test::expect_error([&] { f.boolean("n"); }, ErrorKind::kCorrupt, {"true or false"});
  test::expect_error([&] { f.number("s"); }, ErrorKind::kCorrupt, {"s must be a finite number"});
  test::expect_error([&] { f.positive_number("neg"); }, ErrorKind::kCorrupt, {"positive number"});
  test::expect_error([&] { f.object("s"); }, ErrorKind::kCorrupt, {"s must be an object"});
  test::expect_error([&] { f.non_negative_int_list("badlist"); }, ErrorKind::kCorrupt, {"badlist"});
  test::expect_error([&] { f.number_list("badlist"); }, ErrorKind::kCorrupt, {"badlist"});
  test::expect_error([&] { f.int_or_int_list("s"); }, ErrorKind::kCorrupt, {"s must be"});
  test::expect_error([&] { f.int_or_int_list("neg"); }, ErrorKind::kCorrupt, {"neg must be"});
  test::expect_error([&] { JsonFields(Json::array(), "x.json"); }, ErrorKind::kCorrupt,
                     {"x.json: the top level must be a JSON object"});
}

}  // namespace
}  // namespace kantu
