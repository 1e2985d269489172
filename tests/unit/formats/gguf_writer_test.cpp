// Byte-level checks of the GGUF writer against the format (ggml/docs/gguf.md): header,
// typed key/values, tensor infos with reversed dims and aligned offsets, data placement.
#include "formats/gguf_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "folder_fixture.h"
#include "formats/gguf.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Reads the file front to back the way a GGUF reader does.
struct Cursor {
  const std::string& bytes;
  size_t pos = 0;
  template <typename T>
  T get() {
    EXPECT_LE(pos + sizeof(T), bytes.size());
    T v{};
    if (pos + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string str() {
    const uint64_t n = get<uint64_t>();
    EXPECT_LE(pos + n, bytes.size());
    std::string s = bytes.substr(pos, n);
    pos += n;
    return s;
  }
};

TEST(GgufWriter, WritesHeaderMetadataTensorInfosAndAlignedData) {
  const std::string dir = test::make_temp_dir("gguf_writer");
  const std::string path = dir + "/m.gguf";
  {
    GgufWriter w(path);
    w.add_string("general.architecture", "qwen3vl");
    w.add_uint32("qwen3vl.block_count", 28);
    w.add_float32("qwen3vl.rope.freq_base", 5000000.0f);
    w.add_bool("clip.use_gelu", true);
    const std::vector<int32_t> sections = {24, 20, 20, 0};
    w.add_array("qwen3vl.rope.dimension_sections", std::span<const int32_t>(sections));
    const std::vector<std::string> tokens = {"a", "bc", ""};
    w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
    w.add_bool_array("clip.vision.is_deepstack_layers", {false, true});
    w.add_int64("x.i64", -5);
    w.add_float64("x.f64", 0.25);
    const size_t a = w.add_tensor("a.weight", DType::kF32, {2, 3});  // 24 bytes -> padded to 32
    const size_t b = w.add_tensor("b.weight", DType::kBF16, {5});    // 10 bytes
    EXPECT_EQ(w.tensor_bytes(a), 24u);
    EXPECT_EQ(w.tensor_bytes(b), 10u);
    w.begin_data();
    EXPECT_FALSE(fs::exists(path));  // nothing at the final path until finish()
    const float av[6] = {1, 2, 3, 4, 5, 6};
    w.write_tensor_data(a, 12, av + 3, 12);  // any order, in pieces
    w.write_tensor_data(a, 0, av, 12);
    const uint16_t bv[5] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0};
    w.write_tensor_data(b, 0, bv, 10);
    w.finish();
    EXPECT_FALSE(fs::exists(w.temp_path()));
  }
  const std::string bytes = slurp(path);
  Cursor c{bytes};
  EXPECT_EQ(bytes.substr(0, 4), "GGUF");
  c.pos = 4;
  EXPECT_EQ(c.get<uint32_t>(), 3u);   // version
  EXPECT_EQ(c.get<uint64_t>(), 2u);   // tensors
  EXPECT_EQ(c.get<uint64_t>(), 9u);   // key/values
  EXPECT_EQ(c.str(), "general.architecture");
  EXPECT_EQ(c.get<uint32_t>(), 8u);  // string
  EXPECT_EQ(c.str(), "qwen3vl");
  EXPECT_EQ(c.str(), "qwen3vl.block_count");
  EXPECT_EQ(c.get<uint32_t>(), 4u);  // u32
  EXPECT_EQ(c.get<uint32_t>(), 28u);
  EXPECT_EQ(c.str(), "qwen3vl.rope.freq_base");
  EXPECT_EQ(c.get<uint32_t>(), 6u);  // f32
  EXPECT_EQ(c.get<float>(), 5000000.0f);
  EXPECT_EQ(c.str(), "clip.use_gelu");
  EXPECT_EQ(c.get<uint32_t>(), 7u);  // bool
  EXPECT_EQ(c.get<uint8_t>(), 1u);
  EXPECT_EQ(c.str(), "qwen3vl.rope.dimension_sections");
  EXPECT_EQ(c.get<uint32_t>(), 9u);   // array
  EXPECT_EQ(c.get<uint32_t>(), 5u);   // of i32
  EXPECT_EQ(c.get<uint64_t>(), 4u);
  for (int32_t v : {24, 20, 20, 0}) EXPECT_EQ(c.get<int32_t>(), v);
  EXPECT_EQ(c.str(), "tokenizer.ggml.tokens");
  EXPECT_EQ(c.get<uint32_t>(), 9u);
  EXPECT_EQ(c.get<uint32_t>(), 8u);   // of strings
  EXPECT_EQ(c.get<uint64_t>(), 3u);
  EXPECT_EQ(c.str(), "a");
  EXPECT_EQ(c.str(), "bc");
  EXPECT_EQ(c.str(), "");
  EXPECT_EQ(c.str(), "clip.vision.is_deepstack_layers");
  EXPECT_EQ(c.get<uint32_t>(), 9u);
  EXPECT_EQ(c.get<uint32_t>(), 7u);   // of bools
  EXPECT_EQ(c.get<uint64_t>(), 2u);
  EXPECT_EQ(c.get<uint8_t>(), 0u);
  EXPECT_EQ(c.get<uint8_t>(), 1u);
  EXPECT_EQ(c.str(), "x.i64");
  EXPECT_EQ(c.get<uint32_t>(), 11u);
  EXPECT_EQ(c.get<int64_t>(), -5);
  EXPECT_EQ(c.str(), "x.f64");
  EXPECT_EQ(c.get<uint32_t>(), 12u);
  EXPECT_EQ(c.get<double>(), 0.25);
  // tensor infos: dims reversed (ggml ne[0] is the innermost), type, data-relative offset
  EXPECT_EQ(c.str(), "a.weight");
  EXPECT_EQ(c.get<uint32_t>(), 2u);
  EXPECT_EQ(c.get<uint64_t>(), 3u);
  EXPECT_EQ(c.get<uint64_t>(), 2u);
  EXPECT_EQ(c.get<uint32_t>(), 0u);   // GGML_TYPE_F32
  EXPECT_EQ(c.get<uint64_t>(), 0u);
  EXPECT_EQ(c.str(), "b.weight");
  EXPECT_EQ(c.get<uint32_t>(), 1u);
  EXPECT_EQ(c.get<uint64_t>(), 5u);
  EXPECT_EQ(c.get<uint32_t>(), 30u);  // GGML_TYPE_BF16
  EXPECT_EQ(c.get<uint64_t>(), 32u);  // 24 bytes rounded up to the alignment
  const size_t data = (c.pos + 31) / 32 * 32;
  for (size_t i = c.pos; i < data; ++i) EXPECT_EQ(bytes[i], '\0') << "header padding at " << i;
  ASSERT_EQ(bytes.size(), data + 64);  // the last tensor is padded too
  float a_back[6];
  std::memcpy(a_back, bytes.data() + data, 24);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a_back[i], i + 1.0f);
  for (size_t i = data + 24; i < data + 32; ++i) EXPECT_EQ(bytes[i], '\0');
  uint16_t b_back[5];
  std::memcpy(b_back, bytes.data() + data + 32, 10);
  EXPECT_EQ(b_back[0], 0x3f80);
  EXPECT_EQ(b_back[4], 0x40a0);
}

TEST(GgufWriter, OtherAlignmentIsRecordedAndUsed) {
  const std::string dir = test::make_temp_dir("gguf_writer_align");
  const std::string path = dir + "/m.gguf";
  {
    GgufWriter w(path, 64);
    const size_t a = w.add_tensor("a", DType::kF16, {3});
    const size_t b = w.add_tensor("b", DType::kQ8_0, {2, 32});  // 2 blocks of 34 bytes
    EXPECT_EQ(w.tensor_bytes(b), 68u);
    w.begin_data();
    const std::string zeros(68, '\0');
    w.write_tensor_data(a, 0, zeros.data(), 6);
    w.write_tensor_data(b, 0, zeros.data(), 68);
    w.finish();
  }
  const std::string bytes = slurp(path);
  Cursor c{bytes};
  c.pos = 16;
  EXPECT_EQ(c.get<uint64_t>(), 1u);
  EXPECT_EQ(c.str(), "general.alignment");
  EXPECT_EQ(c.get<uint32_t>(), 4u);
  EXPECT_EQ(c.get<uint32_t>(), 64u);
  c.str();
  c.pos += 4 + 8 + 4;
  EXPECT_EQ(c.get<uint64_t>(), 0u);
  EXPECT_EQ(c.str(), "b");
  c.pos += 4 + 16;
  EXPECT_EQ(c.get<uint32_t>(), 8u);   // GGML_TYPE_Q8_0
  EXPECT_EQ(c.get<uint64_t>(), 64u);
  EXPECT_EQ(bytes.size() % 64, 0u);
}

TEST(GgufWriter, RejectsBadDeclarations) {
  const std::string dir = test::make_temp_dir("gguf_writer_bad");
  GgufWriter w(dir + "/m.gguf");
  w.add_uint32("k", 1);
  test::expect_error([&] { w.add_string("k", "again"); }, ErrorKind::kInvalidArgument, {"twice"});
  test::expect_error([&] { w.add_tensor(std::string(64, 'n'), DType::kF32, {1}); },
                     ErrorKind::kInvalidArgument, {"63"});
  test::expect_error([&] { w.add_tensor("t", DType::kF32, {1, 1, 1, 1, 1}); },
                     ErrorKind::kInvalidArgument, {"dims"});
  test::expect_error([&] { w.add_tensor("t", DType::kF32, {2, 0}); },
                     ErrorKind::kInvalidArgument, {"shape"});
  test::expect_error([&] { w.add_tensor("t", DType::kQ4_K, {2, 128}); },
                     ErrorKind::kInvalidArgument, {"blocks"});
  test::expect_error([&] { w.add_tensor("t", DType::kBool, {2}); }, ErrorKind::kUnsupported,
                     {"GGUF"});
  w.add_tensor("t", DType::kF32, {2});
  test::expect_error([&] { w.add_tensor("t", DType::kF32, {2}); }, ErrorKind::kInvalidArgument,
                     {"twice"});
  test::expect_error([] { GgufWriter bad("x.gguf", 24); }, ErrorKind::kInvalidArgument,
                     {"power of two"});
}

TEST(GgufWriter, IncompleteTensorsNeverReachTheFinalPath) {
  const std::string dir = test::make_temp_dir("gguf_writer_partial");
  const std::string path = dir + "/m.gguf";
  std::string temp;
  {
    GgufWriter w(path);
    const size_t t = w.add_tensor("t", DType::kF32, {4});
    w.begin_data();
    temp = w.temp_path();
    EXPECT_TRUE(fs::exists(temp));
    const float v[4] = {};
    test::expect_error([&] { w.write_tensor_data(t, 8, v, 16); }, ErrorKind::kInternal,
                       {"past the end"});
    w.write_tensor_data(t, 0, v, 8);
    test::expect_error([&] { w.finish(); }, ErrorKind::kInternal, {"8 of its 16 bytes"});
    test::expect_error([&] { w.add_uint32("late", 1); }, ErrorKind::kInternal, {"begin_data"});
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(temp));  // the destructor cleaned up
}

// What the writer writes, the reader reads back: every metadata type, shapes, types, data.
TEST(GgufWriter, RoundTripsThroughTheReader) {
  const std::string dir = test::make_temp_dir("gguf_writer_roundtrip");
  const std::string path = dir + "/m.gguf";
  const std::vector<std::string> tokens = {"<|im_end|>", "\xc4\xa0the", ""};
  const std::vector<float> mean = {0.5f, 0.25f, -1.0f};
  const std::vector<int32_t> types = {3, 1, 5};
  const std::vector<uint64_t> big = {1ull << 40, 7};
  std::vector<uint16_t> bf16(4 * 6);
  for (size_t i = 0; i < bf16.size(); ++i) bf16[i] = static_cast<uint16_t>(0x3f80 + i);
  std::vector<uint8_t> q8(2 * 34, 0);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
  {
    GgufWriter w(path);
    w.add_string("general.architecture", "qwen3vl");
    w.add_uint8("t.u8", 200);
    w.add_int8("t.i8", -100);
    w.add_uint16("t.u16", 60000);
    w.add_int16("t.i16", -30000);
    w.add_uint32("t.u32", 4000000000u);
    w.add_int32("t.i32", -2000000000);
    w.add_uint64("t.u64", 1ull << 50);
    w.add_int64("t.i64", -(1ll << 50));
    w.add_float32("t.f32", 1e-6f);
    w.add_float64("t.f64", 5e6);
    w.add_bool("t.bool", true);
    w.add_array("t.tokens", std::span<const std::string>(tokens));
    w.add_array("t.mean", std::span<const float>(mean));
    w.add_array("t.types", std::span<const int32_t>(types));
    w.add_array("t.big", std::span<const uint64_t>(big));
    w.add_bool_array("t.flags", {true, false, true});
    const size_t a = w.add_tensor("blk.0.attn_q.weight", DType::kBF16, {4, 6});
    const size_t b = w.add_tensor("blk.0.ffn_up.weight", DType::kQ8_0, {2, 32});
    w.begin_data();
    w.write_tensor_data(b, 0, q8.data(), q8.size());
    w.write_tensor_data(a, 0, bf16.data(), bf16.size() * 2);
    w.finish();
  }
  const GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.string("general.architecture"), "qwen3vl");
  EXPECT_EQ(f.unsigned_integer("t.u8"), 200u);
  EXPECT_EQ(f.integer("t.i8"), -100);
  EXPECT_EQ(f.unsigned_integer("t.u16"), 60000u);
  EXPECT_EQ(f.integer("t.i16"), -30000);
  EXPECT_EQ(f.unsigned_integer("t.u32"), 4000000000u);
  EXPECT_EQ(f.integer("t.i32"), -2000000000);
  EXPECT_EQ(f.unsigned_integer("t.u64"), 1ull << 50);
  EXPECT_EQ(f.integer("t.i64"), -(1ll << 50));
  EXPECT_FLOAT_EQ(static_cast<float>(f.number("t.f32")), 1e-6f);
  EXPECT_EQ(f.number("t.f64"), 5e6);
  EXPECT_TRUE(f.boolean("t.bool"));
  const auto& back_tokens = f.strings("t.tokens");
  ASSERT_EQ(back_tokens.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(back_tokens[i], tokens[i]);
  const std::vector<double> back_mean = f.numbers("t.mean");
  ASSERT_EQ(back_mean.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(back_mean[i], mean[i]);
  EXPECT_EQ(f.integers("t.types"), (std::vector<int64_t>{3, 1, 5}));
  EXPECT_EQ(f.integers("t.big"), (std::vector<int64_t>{1ll << 40, 7}));
  EXPECT_EQ(f.booleans("t.flags"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(f.tensor_order(), (std::vector<std::string>{"blk.0.attn_q.weight", "blk.0.ffn_up.weight"}));
  const TensorView& a = f.tensor("blk.0.attn_q.weight");
  EXPECT_EQ(a.dtype, DType::kBF16);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{4, 6}));
  ASSERT_EQ(a.nbytes, bf16.size() * 2);
  EXPECT_EQ(std::memcmp(a.data, bf16.data(), a.nbytes), 0);
  const TensorView& b = f.tensor("blk.0.ffn_up.weight");
  EXPECT_EQ(b.dtype, DType::kQ8_0);
  EXPECT_EQ(b.shape, (std::vector<int64_t>{2, 32}));
  ASSERT_EQ(b.nbytes, q8.size());
  EXPECT_EQ(std::memcmp(b.data, q8.data(), b.nbytes), 0);
}

}  // namespace
}  // namespace kantu
