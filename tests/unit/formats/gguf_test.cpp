#include "formats/gguf.h"
#include "formats/weight_store.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "folder_fixture.h"
#include "support/gguf_builder.h"
#include "support/testdata.h"

namespace kantu {
namespace {

using test::GgufBuilder;

constexpr uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8, kQ4_K = 12, kBF16 = 30;

std::string f32_bytes(const std::vector<float>& v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

GgufBuilder valid() {
  GgufBuilder b;
  b.str("general.architecture", "qwen3vl")
      .u32("qwen3vl.block_count", 3)
      .f32("qwen3vl.rope.freq_base", 5e6f)
      .f64("some.f64", -2.5)
      .i32("some.i32", -7)
      .u64("some.u64", 1ull << 40)
      .boolean("some.bool", true)
      .i32s("qwen3vl.rope.dimension_sections", {6, 5, 5, 0})
      .f32s("clip.vision.image_mean", {0.5f, 0.25f, 0.125f})
      .bools("clip.vision.is_deepstack_layers", {false, true, true, false})
      .strs("tokenizer.ggml.tokens", {"a", "b", "", "\xc4\xa0world"})
      .tensor("a", kF32, {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6}))
      .tensor("b", kF16, {3}, std::string(6, '\0'))
      .tensor("q", kQ8_0, {2, 32}, std::string(2 * 34, '\x02'));
  return b;
}

GgufFile parse(const GgufBuilder& b) { return GgufFile::parse(b.build(), "t.gguf"); }

void expect_corrupt(const std::string& bytes, std::initializer_list<std::string> fragments,
                    ErrorKind kind = ErrorKind::kCorrupt) {
  test::expect_error([&] { GgufFile::parse(bytes, "bad.gguf"); }, kind, fragments);
}

TEST(Gguf, ReadsMetadataOfEveryType) {
  const GgufFile f = parse(valid());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.string("general.architecture"), "qwen3vl");
  EXPECT_EQ(f.integer("qwen3vl.block_count"), 3);
  EXPECT_EQ(f.unsigned_integer("some.u64"), 1ull << 40);
  EXPECT_EQ(f.integer("some.i32"), -7);
  EXPECT_FLOAT_EQ(f.number("qwen3vl.rope.freq_base"), 5e6);
  EXPECT_DOUBLE_EQ(f.number("some.f64"), -2.5);
  EXPECT_DOUBLE_EQ(f.number("qwen3vl.block_count"), 3.0);  // integers read as numbers
  EXPECT_TRUE(f.boolean("some.bool"));
  EXPECT_EQ(f.integers("qwen3vl.rope.dimension_sections"), (std::vector<int64_t>{6, 5, 5, 0}));
  EXPECT_EQ(f.numbers("clip.vision.image_mean"), (std::vector<double>{0.5, 0.25, 0.125}));
  EXPECT_EQ(f.booleans("clip.vision.is_deepstack_layers"),
            (std::vector<bool>{false, true, true, false}));
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 4u);
  EXPECT_EQ(tokens[2], "");
  EXPECT_EQ(tokens[3], "\xc4\xa0world");
  EXPECT_EQ(f.metadata().size(), 11u);
}

TEST(Gguf, TypedGettersNameTheKeyOnMisuse) {
  const GgufFile f = parse(valid());
  test::expect_error([&] { f.string("nope"); }, ErrorKind::kNotFound, {"t.gguf", "'nope'"});
  test::expect_error([&] { f.integer("general.architecture"); }, ErrorKind::kCorrupt,
                     {"general.architecture", "a string", "an integer"});
  test::expect_error([&] { f.unsigned_integer("some.i32"); }, ErrorKind::kCorrupt,
                     {"some.i32", "negative"});
  test::expect_error([&] { f.integers("qwen3vl.block_count"); }, ErrorKind::kCorrupt,
                     {"qwen3vl.block_count", "array of integers"});
  test::expect_error([&] { f.strings("clip.vision.image_mean"); }, ErrorKind::kCorrupt,
                     {"clip.vision.image_mean", "an array of f32"});
  test::expect_error([&] { f.boolean("some.u64"); }, ErrorKind::kCorrupt, {"some.u64", "bool"});
}

TEST(Gguf, TensorsHaveOurShapesAndPointIntoTheData) {
  const GgufFile f = parse(valid());
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensor_order(), (std::vector<std::string>{"a", "b", "q"}));
  const TensorView& a = f.tensor("a");
  EXPECT_EQ(a.dtype, DType::kF32);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));  // ne = {3, 2} in the file
  EXPECT_EQ(to_f32(a), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f.tensor("b").dtype, DType::kF16);
  const TensorView& q = f.tensor("q");
  EXPECT_EQ(q.dtype, DType::kQ8_0);
  EXPECT_EQ(q.shape, (std::vector<int64_t>{2, 32}));
  EXPECT_EQ(q.nbytes, 68u);
  EXPECT_EQ(static_cast<const uint8_t*>(q.data)[0], 2);
  // Offsets inside the data section are aligned (the data section itself is, in the file).
  EXPECT_EQ(f.data_offset() % 32, 0u);
  const auto base = reinterpret_cast<uintptr_t>(a.data);
  for (const auto& [name, view] : f.tensors()) {
    EXPECT_EQ((reinterpret_cast<uintptr_t>(view.data) - base) % 32, 0u) << name;
  }
  test::expect_error([&] { f.tensor("zzz"); }, ErrorKind::kNotFound, {"t.gguf", "zzz"});
}

TEST(Gguf, HonoursGeneralAlignmentAndVersion2) {
  GgufBuilder b = valid();
  b.u32("general.alignment", 64).alignment(64).version(2);
  const GgufFile f = parse(b);
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(to_f32(f.tensor("a"))[5], 6.0f);
}

TEST(Gguf, OpensAMappedFile) {
  const std::string dir = test::make_temp_dir("gguf");
  valid().write(dir + "/m.gguf");
  const GgufFile f = GgufFile::open(dir + "/m.gguf");
  EXPECT_EQ(to_f32(f.tensor("a"))[0], 1.0f);
  test::expect_error([&] { GgufFile::open(dir + "/missing.gguf"); }, ErrorKind::kNotFound,
                     {"missing.gguf"});
}

TEST(Gguf, EmptyFileWithoutTensorsIsValid) {
  const GgufFile f = parse(GgufBuilder().str("general.architecture", "clip"));
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.string("general.architecture"), "clip");
}

TEST(GgufCorrupt, WrongMagicAndVersions) {
  std::string bytes = valid().build();
  expect_corrupt("", {"bad.gguf", "not a GGUF file"});
  expect_corrupt("GGU", {"not a GGUF file"});
  std::string wrong = bytes;
  wrong[0] = 'X';
  expect_corrupt(wrong, {"not a GGUF file"});
  expect_corrupt(GgufBuilder().version(1).build(), {"version 1"}, ErrorKind::kUnsupported);
  expect_corrupt(GgufBuilder().version(0x03000000).build(), {"big-endian"}, ErrorKind::kUnsupported);
  expect_corrupt(GgufBuilder().version(77).build(), {"version 77"});
}

TEST(GgufCorrupt, EveryTruncationIsAnError) {
  const std::string bytes = valid().build();
  // Cutting anywhere before the last tensor's end must be caught (never read past the end).
  for (size_t n = 0; n < bytes.size(); ++n) {
    test::expect_error([&] { GgufFile::parse(bytes.substr(0, n), "cut.gguf"); },
                       ErrorKind::kCorrupt, {"cut.gguf"});
  }
  EXPECT_NO_THROW(GgufFile::parse(bytes, "whole.gguf"));
}

TEST(GgufCorrupt, HugeCountsAreRejectedBeforeAllocating) {
  expect_corrupt(GgufBuilder().kv_count_override(~0ull).build(), {"metadata entries"});
  expect_corrupt(GgufBuilder().tensor_count_override(1ull << 60).build(), {"tensors"});
  // A string array that claims 2^62 strings.
  expect_corrupt(GgufBuilder().raw("k", 9, test::le32(8) + test::le64(1ull << 62)).build(),
                 {"'k'", "strings"});
  // A u32 array that claims more values than bytes.
  expect_corrupt(GgufBuilder().raw("k", 9, test::le32(4) + test::le64(1ull << 61)).build(),
                 {"'k'", "values"});
  // A string whose length exceeds the file.
  expect_corrupt(GgufBuilder().raw("k", 8, test::le64(~0ull)).build(), {"'k'", "bytes"});
  // A key whose length exceeds the file.
  std::string bytes = "GGUF" + test::le32(3) + test::le64(0) + test::le64(1) + test::le64(1ull << 40) +
                      std::string(16, '\0');
  expect_corrupt(bytes, {"key"});
}

TEST(GgufCorrupt, BadValueTypes) {
  expect_corrupt(GgufBuilder().raw("k", 13, "").build(), {"'k'", "unknown value type 13"});
  expect_corrupt(GgufBuilder().raw("k", 9, test::le32(99) + test::le64(0)).build(),
                 {"'k'", "unknown value type 99"});
  expect_corrupt(GgufBuilder().raw("k", 9, test::le32(9) + test::le64(1)).build(),
                 {"'k'", "arrays of arrays"}, ErrorKind::kUnsupported);
  expect_corrupt(GgufBuilder().raw("k", 7, std::string(1, '\x05')).build(), {"'k'", "bool"});
  expect_corrupt(GgufBuilder().u32("k", 1).u32("k", 2).build(), {"'k'", "twice"});
  expect_corrupt(GgufBuilder().u32("", 1).build(), {"empty key"});
}

TEST(GgufCorrupt, BadAlignment) {
  expect_corrupt(GgufBuilder().u32("general.alignment", 0).build(), {"general.alignment"});
  expect_corrupt(GgufBuilder().u32("general.alignment", 48).build(), {"power of 2"});
  expect_corrupt(GgufBuilder().u64("general.alignment", 32).build(), {"general.alignment", "u32"});
}

TEST(GgufCorrupt, BadTensorInfos) {
  auto one = [](uint32_t type, std::vector<int64_t> shape, size_t bytes) {
    return GgufBuilder().tensor("w", type, std::move(shape), std::string(bytes, '\0')).build();
  };
  expect_corrupt(one(kF32, {}, 0), {"'w'", "0 dimensions"});
  expect_corrupt(one(kF32, {1, 1, 1, 1, 1}, 4), {"'w'", "5 dimensions"});
  expect_corrupt(one(kF32, {-1}, 4), {"'w'", "negative"});
  expect_corrupt(one(kF32, {1ll << 40, 1ll << 40}, 4), {"'w'", "too many elements"});
  expect_corrupt(one(kF32, {4, 1ll << 40}, 4), {"'w'", "past the end"});
  expect_corrupt(one(kQ8_0, {2, 33}, 68), {"'w'", "multiple of the Q8_0 block"});
  expect_corrupt(one(kQ4_K, {1, 128}, 144), {"'w'", "Q4_K block (256)"});
  expect_corrupt(one(999, {4}, 16), {"'w'", "unknown type 999"});
  expect_corrupt(one(3, {32}, 20), {"'w'", "Q4_1"}, ErrorKind::kUnsupported);
  expect_corrupt(one(23, {256}, 136), {"'w'", "IQ4_XS"}, ErrorKind::kUnsupported);
  expect_corrupt(GgufBuilder()
                     .tensor("w", kF32, {1}, "abcd")
                     .tensor("w", kF32, {1}, "abcd")
                     .build(),
                 {"'w'", "twice"});
}

TEST(GgufCorrupt, OffsetsOutOfRangeMisalignedOrOverlapping) {
  auto two = [] {
    return GgufBuilder()
        .tensor("x", kF32, {16}, std::string(64, '\0'))
        .tensor("y", kBF16, {32}, std::string(64, '\0'));
  };
  expect_corrupt(two().offset_override(1, 32).build(), {"'x'", "'y'", "overlap"});
  expect_corrupt(two().offset_override(1, 4).build(), {"'y'", "alignment"});
  expect_corrupt(two().offset_override(1, 1ull << 62).build(), {"'y'", "past the end"});
  expect_corrupt(two().offset_override(0, ~0ull & ~31ull).build(), {"'x'", "past the end"});
  EXPECT_NO_THROW(GgufFile::parse(two().build(), "ok.gguf"));
}

TEST(GgufTypes, GgmlNumbersRoundTrip) {
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ8_0, DType::kQ4_0,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    const auto id = ggml_type_of(d);
    ASSERT_TRUE(id.has_value()) << dtype_name(d);
    EXPECT_EQ(dtype_of_ggml_type(*id), d);
  }
  EXPECT_EQ(*ggml_type_of(DType::kBF16), 30u);
  EXPECT_EQ(*ggml_type_of(DType::kQ6_K), 14u);
  EXPECT_FALSE(ggml_type_of(DType::kBool).has_value());
  EXPECT_FALSE(dtype_of_ggml_type(3).has_value());
}

}  // namespace
}  // namespace kantu

namespace kantu {
namespace {

TEST(GgufWeightStore, HoldsRenamedViewsAndOwnedTensors) {
  auto file = std::make_shared<const GgufFile>(GgufFile::parse(valid().build(), "t.gguf"));
  WeightStore store;
  const size_t index = store.keep(file);
  store.add("model.a", file->tensor("a"), index);
  store.add_owned("model.b", DType::kF32, {2}, std::vector<uint8_t>(8, 0), index);
  EXPECT_EQ(store.get("model.a").name, "model.a");
  EXPECT_EQ(to_f32(store.get("model.a"))[4], 5.0f);
  EXPECT_EQ(to_f32(store.get("model.b")), (std::vector<float>{0, 0}));
  EXPECT_EQ(store.file_of("model.b"), "t.gguf");
  EXPECT_EQ(store.tensor_count(index), 2u);
  test::expect_error([&] { store.add("model.a", file->tensor("b"), index); }, ErrorKind::kCorrupt,
                     {"model.a", "t.gguf"});
  store.set_name_hint([](const std::string& n) { return "GGUF '" + n.substr(6) + "'"; });
  test::expect_error([&] { store.require({"model.zz", "model.a"}, "test"); }, ErrorKind::kNotFound,
                     {"1 required", "model.zz (GGUF 'zz')"});
  // Moving the store keeps every view valid.
  WeightStore moved = std::move(store);
  EXPECT_EQ(to_f32(moved.get("model.a"))[0], 1.0f);
}

}  // namespace
}  // namespace kantu

namespace kantu {
namespace {

TEST(Gguf, EmptyTensorsAreValidAndReadAsNothing) {
  const GgufFile f = GgufFile::parse(
      test::GgufBuilder().tensor("e", 0, {0, 4}, "").tensor("a", 0, {1}, "abcd").build(), "e.gguf");
  EXPECT_EQ(f.tensor("e").shape, (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(f.tensor("e").nbytes, 0u);
  EXPECT_TRUE(to_f32(f.tensor("e")).empty());
}

}  // namespace
}  // namespace kantu
