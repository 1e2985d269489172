#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "core/mapped_file.h"
#include "folder_fixture.h"
#include "formats/weight_store.h"
#include "support/testdata.h"

namespace kantu {
namespace {

// A file with `header` padded (as writers do) so the data section starts 8-byte aligned.
std::string raw_bytes(std::string header, size_t data_bytes) {
  while (header.size() % 8 != 0) header.push_back(' ');
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  bytes += std::string(data_bytes, '\x01');
  return bytes;
}

std::string raw_file(const std::string& dir, const std::string& header, size_t data_bytes) {
  std::string path = dir + "/t.safetensors";
  test::write_text_file(path, raw_bytes(header, data_bytes));
  return path;
}

void expect_error(const std::string& path, ErrorKind kind, const std::string& fragment) {
  test::expect_error([&] { SafetensorsFile::open(path); }, kind, {fragment, path});
}

uint64_t header_length(const std::string& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  return n;
}

TEST(Safetensors, WritesAndReadsBack) {
  std::string dir = test::make_temp_dir("st");
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> b = {0x3f80, 0x4000};
  write_safetensors(dir + "/m.safetensors",
                    {{"a", DType::kF32, {2, 3}, a.data()}, {"b", DType::kBF16, {2}, b.data()}},
                    {{"format", "pt"}});
  auto st = SafetensorsFile::open(dir + "/m.safetensors");
  ASSERT_TRUE(st.has("a"));
  EXPECT_EQ(st.get("a").shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(to_f32(st.get("a")), a);
  EXPECT_EQ(to_f32(st.get("b")), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(st.metadata().at("format"), "pt");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(st.get("a").data) % 8, 0u);
  test::expect_error([&] { st.get("nope"); }, ErrorKind::kNotFound, {"nope", "m.safetensors"});
}

TEST(Safetensors, WriterKeepsMixedDtypesAligned) {
  // A 3-byte U8 tensor written first must not push the F32/F64 data off alignment.
  std::string dir = test::make_temp_dir("st");
  std::vector<uint8_t> u = {1, 2, 3};
  std::vector<float> f = {1.5f, -2.0f};
  std::vector<double> d = {3.25};
  std::vector<uint16_t> h = {0x3c00};  // f16 1.0
  write_safetensors(dir + "/m.safetensors", {{"u", DType::kU8, {3}, u.data()},
                                             {"h", DType::kF16, {1}, h.data()},
                                             {"f", DType::kF32, {2}, f.data()},
                                             {"d", DType::kF64, {1, 1}, d.data()},
                                             {"empty", DType::kF32, {0, 4}, nullptr}});
  auto st = SafetensorsFile::open(dir + "/m.safetensors");
  for (const auto& [name, view] : st.tensors()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(view.data) % dtype_size(view.dtype), 0u) << name;
  }
  EXPECT_EQ(to_f32(st.get("f")), f);
  EXPECT_EQ(to_f32(st.get("d")), std::vector<float>{3.25f});
  EXPECT_EQ(to_f32(st.get("h")), std::vector<float>{1.0f});
  EXPECT_EQ(std::memcmp(st.get("u").data, u.data(), 3), 0);
  EXPECT_EQ(st.get("empty").nbytes, 0u);
}

TEST(Safetensors, WriterRejectsBadArguments) {
  std::string dir = test::make_temp_dir("st");
  float x = 1;
  const std::string path = dir + "/m.safetensors";
  test::expect_error([&] { write_safetensors(path, {{"a", DType::kF32, {-1}, &x}}); },
                     ErrorKind::kInvalidArgument, {"negative", "'a'"});
  test::expect_error(
      [&] { write_safetensors(path, {{"a", DType::kF32, {1}, &x}, {"a", DType::kF32, {1}, &x}}); },
      ErrorKind::kInvalidArgument, {"repeated"});
  test::expect_error([&] { write_safetensors(path, {{"a", DType::kF32, {2}, nullptr}}); },
                     ErrorKind::kInvalidArgument, {"no data"});
  test::expect_error([&] { write_safetensors(dir + "/no/such/dir/m.safetensors", {}); },
                     ErrorKind::kInvalidArgument, {"cannot write"});
  EXPECT_FALSE(file_exists(path));
}

TEST(Safetensors, ReadsTheTinyModel) {
  auto store = WeightStore::open_folder(test::testdata("models/qwen3vl-tiny-a"));
  EXPECT_TRUE(store.has("model.language_model.embed_tokens.weight"));
  EXPECT_EQ(store.get("model.language_model.embed_tokens.weight").dtype, DType::kBF16);
}

TEST(Safetensors, ParsesFromMemoryLikeFromAFile) {
  const std::string path = test::testdata("models/qwen3vl-tiny-a/model.safetensors");
  const std::string bytes = read_file(path);
  auto from_file = SafetensorsFile::open(path);
  auto from_memory = SafetensorsFile::parse(bytes, "in-memory");
  ASSERT_EQ(from_file.tensors().size(), from_memory.tensors().size());
  for (const auto& [name, view] : from_file.tensors()) {
    const TensorView& other = from_memory.get(name);
    EXPECT_EQ(view.shape, other.shape) << name;
    EXPECT_EQ(view.dtype, other.dtype) << name;
    ASSERT_EQ(view.nbytes, other.nbytes) << name;
    EXPECT_EQ(std::memcmp(view.data, other.data, view.nbytes), 0) << name;
  }
}

TEST(Safetensors, RejectsTheTinyModelCutAnywhere) {
  const std::string bytes = read_file(test::testdata("models/qwen3vl-tiny-a/model.safetensors"));
  const uint64_t header_len = header_length(bytes);
  ASSERT_LT(header_len + 8, bytes.size());
  const size_t cuts[] = {0, 3, 7, 8, 9, 8 + header_len / 2, 8 + header_len - 1, 8 + header_len,
                         8 + header_len + 1, (8 + header_len + bytes.size()) / 2, bytes.size() - 1};
  for (size_t cut : cuts) {
    SCOPED_TRACE(cut);
    test::expect_error([&] { SafetensorsFile::parse(std::string_view(bytes).substr(0, cut), "cut"); },
                       ErrorKind::kCorrupt, {"cut: "});
  }
  // The same through real files (a copy in a temp dir, never the shared data).
  const std::string dir = test::make_temp_dir("cut");
  for (size_t cut : {size_t{5}, size_t(8 + header_len / 3), bytes.size() - 2}) {
    const std::string path = dir + "/model.safetensors";
    test::write_text_file(path, bytes.substr(0, cut));
    expect_error(path, ErrorKind::kCorrupt, cut > 8 + header_len ? "truncated" : "");
  }
}

TEST(Safetensors, RejectsCorruptHeaderBytes) {
  const std::string bytes = read_file(test::testdata("models/qwen3vl-tiny-a/model.safetensors"));
  const uint64_t header_len = header_length(bytes);
  // Overwrite single header bytes with characters that break the JSON.
  for (size_t at : {size_t{8}, size_t(8 + header_len / 2), size_t(8 + header_len - 3)}) {
    for (char c : {'\0', '{', '"', '\xff'}) {
      std::string bad = bytes;
      bad[at] = c;
      // Not every substitution breaks the file (e.g. '{' inside a string); none may crash.
      try {
        auto st = SafetensorsFile::parse(bad, "flipped");
        EXPECT_FALSE(st.tensors().empty());
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("flipped: "), std::string::npos) << e.what();
      }
    }
  }
  std::string bad = bytes;
  bad[8] = 'x';  // the opening brace
  test::expect_error([&] { SafetensorsFile::parse(bad, "flipped"); }, ErrorKind::kCorrupt,
                     {"not valid JSON"});
  bad = bytes;
  bad[7] = '\x01';  // header length now huge
  test::expect_error([&] { SafetensorsFile::parse(bad, "flipped"); }, ErrorKind::kCorrupt,
                     {"exceeds the file size"});
}

TEST(Safetensors, RejectsMalformedHeaders) {
  std::string dir = test::make_temp_dir("bad");
  expect_error(raw_file(dir, "{\"x\":", 0), ErrorKind::kCorrupt, "not valid JSON");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
               ErrorKind::kCorrupt, "truncated");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "'x' has shape [3]");
  expect_error(raw_file(dir, R"({"x":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8),
               ErrorKind::kUnsupported, "unsupported dtype Q9");
  expect_error(raw_file(dir, R"({"x":{"dtype":"bf16","shape":[2],"data_offsets":[0,4]}})", 4),
               ErrorKind::kUnsupported, "unsupported dtype bf16");
  expect_error(raw_file(dir, R"({"x":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "'x' has no string dtype");
  expect_error(raw_file(dir,
                        R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        12),
               ErrorKind::kCorrupt, "overlap");
  // An overlap hidden behind an empty tensor and a tensor nested inside a bigger one.
  expect_error(raw_file(dir,
                        R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                        16),
               ErrorKind::kCorrupt, "overlap");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "negative");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "non-integer");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "no shape array");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8),
               ErrorKind::kCorrupt, "data_offsets");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
               ErrorKind::kCorrupt, "reversed");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", 8),
               ErrorKind::kCorrupt, "negative offset");
  expect_error(raw_file(dir,
                        R"({"x":{"dtype":"F64","shape":[4294967296,4294967296],)"
                        R"("data_offsets":[0,8]}})",
                        8),
               ErrorKind::kCorrupt, "overflows");
  expect_error(raw_file(dir, R"({"x":[1,2]})", 0), ErrorKind::kCorrupt, "not an object");
  expect_error(raw_file(dir, R"({"__metadata__":{"a":1}})", 0), ErrorKind::kCorrupt,
               "__metadata__.a");
  expect_error(raw_file(dir, R"({"__metadata__":[]})", 0), ErrorKind::kCorrupt, "__metadata__");
  expect_error(raw_file(dir, R"([1,2])", 0), ErrorKind::kCorrupt, "not a JSON object");
  // A 4-byte tensor at an odd position cannot be read in place.
  expect_error(raw_file(dir,
                        R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                        R"("x":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})",
                        5),
               ErrorKind::kUnsupported, "not aligned");
  // Header length larger than the file.
  std::string path = dir + "/short.safetensors";
  test::write_text_file(path, std::string("\xff\xff\x00\x00\x00\x00\x00\x00{}", 10));
  expect_error(path, ErrorKind::kCorrupt, "exceeds the file size");
  test::write_text_file(path, "abc");
  expect_error(path, ErrorKind::kCorrupt, "too short");
  test::write_text_file(path, "");
  expect_error(path, ErrorKind::kCorrupt, "too short");
  test::expect_error([&] { SafetensorsFile::open(dir + "/absent.safetensors"); },
                     ErrorKind::kNotFound, {"absent.safetensors"});
}

TEST(Safetensors, AcceptsEdgeCases) {
  // Scalars (shape []), empty tensors, an empty header object, spaces after the JSON.
  auto st = SafetensorsFile::parse(
      raw_bytes(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                R"("e":{"dtype":"BF16","shape":[3,0],"data_offsets":[4,4]}}    )",
                4),
      "edge");
  EXPECT_EQ(st.get("s").numel(), 1);
  EXPECT_EQ(st.get("e").numel(), 0);
  EXPECT_TRUE(SafetensorsFile::parse(raw_bytes("{}", 0), "empty").tensors().empty());
}

TEST(WeightStore, ListsEveryMissingTensorAtOnce) {
  auto store = WeightStore::open_folder(test::testdata("models/qwen3vl-tiny-a"));
  try {
    store.require({"model.language_model.norm.weight", "nope.a", "nope.b"}, "qwen3_vl");
    FAIL();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("2 required tensors are missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find("nope.a"), std::string::npos);
    EXPECT_NE(msg.find("nope.b"), std::string::npos);
  }
}

}  // namespace
}  // namespace kantu
