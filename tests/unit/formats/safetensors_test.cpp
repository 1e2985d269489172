#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>

#include "core/error.h"
#include "formats/weight_store.h"
#include "support/testdata.h"

namespace kantu {
namespace {

std::string raw_file(const std::string& dir, const std::string& header, size_t data_bytes) {
  std::string path = dir + "/t.safetensors";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  bytes += std::string(data_bytes, '\x01');
  test::write_text_file(path, bytes);
  return path;
}

void expect_error(const std::string& path, ErrorKind kind, const std::string& fragment) {
  try {
    SafetensorsFile::open(path);
    FAIL() << "expected an error mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
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
}

TEST(Safetensors, ReadsTheTinyModel) {
  auto store = WeightStore::open_folder(test::testdata("models/qwen3vl-tiny-a"));
  EXPECT_TRUE(store.has("model.language_model.embed_tokens.weight"));
  EXPECT_EQ(store.get("model.language_model.embed_tokens.weight").dtype, DType::kBF16);
}

TEST(Safetensors, RejectsMalformedFiles) {
  std::string dir = test::make_temp_dir("bad");
  expect_error(raw_file(dir, "{\"x\":", 0), ErrorKind::kCorrupt, "not valid JSON");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4),
               ErrorKind::kCorrupt, "truncated");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "'x' has shape [3]");
  expect_error(raw_file(dir, R"({"x":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8),
               ErrorKind::kUnsupported, "unsupported dtype Q9");
  expect_error(raw_file(dir,
                        R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                        12),
               ErrorKind::kCorrupt, "overlap");
  expect_error(raw_file(dir, R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
               ErrorKind::kCorrupt, "negative");
  expect_error(raw_file(dir, R"([1,2])", 0), ErrorKind::kCorrupt, "not a JSON object");
  // Header length larger than the file.
  std::string path = dir + "/short.safetensors";
  test::write_text_file(path, std::string("\xff\xff\x00\x00\x00\x00\x00\x00{}", 10));
  expect_error(path, ErrorKind::kCorrupt, "exceeds the file size");
  test::write_text_file(path, "abc");
  expect_error(path, ErrorKind::kCorrupt, "too short");
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
