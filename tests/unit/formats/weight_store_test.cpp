#include "formats/weight_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "folder_fixture.h"
#include "formats/safetensors.h"
#include "support/testdata.h"

namespace kantu {
namespace {

// A 2-shard model: a and b in shard 1, c in shard 2, with the index.json that lists them.
struct ShardedModel {
  std::string dir;
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> b = {0x3f80, 0xc000};  // bf16 1, -2
  std::vector<float> c = {7, 8};
  Json index;
};

ShardedModel write_sharded(const std::string& hint) {
  ShardedModel m;
  m.dir = test::make_temp_dir(hint);
  write_safetensors(m.dir + "/model-00001-of-00002.safetensors",
                    {{"a", DType::kF32, {2, 3}, m.a.data()}, {"b", DType::kBF16, {2}, m.b.data()}});
  write_safetensors(m.dir + "/model-00002-of-00002.safetensors",
                    {{"c", DType::kF32, {2}, m.c.data()}});
  m.index = {{"metadata", {{"total_size", 36}}},
             {"weight_map",
              {{"a", "model-00001-of-00002.safetensors"},
               {"b", "model-00001-of-00002.safetensors"},
               {"c", "model-00002-of-00002.safetensors"}}}};
  test::write_json(m.dir + "/model.safetensors.index.json", m.index);
  return m;
}

void expect_folder_error(const std::string& dir, ErrorKind kind,
                         std::initializer_list<std::string> fragments) {
  test::expect_error([&] { WeightStore::open_folder(dir); }, kind, fragments);
}

TEST(WeightStore, ReadsAShardedFolder) {
  ShardedModel m = write_sharded("sharded");
  auto store = WeightStore::open_folder(m.dir);
  EXPECT_EQ(store.files().size(), 2u);
  EXPECT_EQ(store.tensors().size(), 3u);
  EXPECT_EQ(to_f32(store.get("a")), m.a);
  EXPECT_EQ(to_f32(store.get("b")), (std::vector<float>{1, -2}));
  EXPECT_EQ(to_f32(store.get("c")), m.c);
  EXPECT_EQ(store.file_of("c"), m.dir + "/model-00002-of-00002.safetensors");
  EXPECT_EQ(store.tensor_count(1), 1u);
  EXPECT_EQ(store.tensor_count(0), 2u);
  test::expect_error([&] { store.get("d"); }, ErrorKind::kNotFound, {"'d'"});
  test::expect_error([&] { store.file_of("d"); }, ErrorKind::kNotFound, {"'d'"});
}

TEST(WeightStore, TheIndexWinsOverASingleFile) {
  ShardedModel m = write_sharded("both");
  float x = 0;
  write_safetensors(m.dir + "/model.safetensors", {{"zzz", DType::kF32, {1}, &x}});
  auto store = WeightStore::open_folder(m.dir);
  EXPECT_FALSE(store.has("zzz"));
  EXPECT_TRUE(store.has("c"));
}

TEST(WeightStore, RejectsAMissingShard) {
  ShardedModel m = write_sharded("missing_shard");
  std::filesystem::remove(m.dir + "/model-00002-of-00002.safetensors");
  expect_folder_error(m.dir, ErrorKind::kNotFound,
                      {"model.safetensors.index.json", "model-00002-of-00002.safetensors"});
}

TEST(WeightStore, RejectsATensorMissingFromItsShard) {
  ShardedModel m = write_sharded("missing_tensor");
  m.index["weight_map"]["d"] = "model-00002-of-00002.safetensors";
  test::write_json(m.dir + "/model.safetensors.index.json", m.index);
  expect_folder_error(m.dir, ErrorKind::kCorrupt,
                      {"index.json", "1 tensors listed", "d (not in model-00002-of-00002"});
}

TEST(WeightStore, RejectsATensorInTheWrongShard) {
  ShardedModel m = write_sharded("wrong_shard");
  m.index["weight_map"]["c"] = "model-00001-of-00002.safetensors";
  m.index["weight_map"]["z"] = "model-00002-of-00002.safetensors";  // keep shard 2 listed
  test::write_json(m.dir + "/model.safetensors.index.json", m.index);
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {"c (listed in model-00001", "found in"});
}

TEST(WeightStore, RejectsATensorInTwoShards) {
  ShardedModel m = write_sharded("dup");
  write_safetensors(m.dir + "/model-00002-of-00002.safetensors",
                    {{"c", DType::kF32, {2}, m.c.data()}, {"a", DType::kF32, {2, 3}, m.a.data()}});
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {"'a' appears in both"});
}

TEST(WeightStore, RejectsMalformedIndexes) {
  ShardedModel m = write_sharded("bad_index");
  const std::string index_path = m.dir + "/model.safetensors.index.json";
  test::write_text_file(index_path, "{\"weight_map\": {\"a\": ");
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "invalid JSON"});
  test::write_text_file(index_path, "[]");
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "not an object"});
  test::write_json(index_path, {{"metadata", {}}});
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "no weight_map"});
  test::write_json(index_path, {{"weight_map", Json::object()}});
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "lists no tensors"});
  test::write_json(index_path, {{"weight_map", {{"a", 1}}}});
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "weight_map.a is not a string"});
}

TEST(WeightStore, RejectsUnsafeShardNames) {
  ShardedModel m = write_sharded("unsafe");
  const std::string index_path = m.dir + "/model.safetensors.index.json";
  for (const char* name : {"../model-00001-of-00002.safetensors", "/etc/passwd", "sub/x.safetensors",
                           ".hidden.safetensors", "model.bin", "", ".safetensors",
                           "a\\b.safetensors"}) {
    SCOPED_TRACE(name);
    test::write_json(index_path, {{"weight_map", {{"a", name}}}});
    expect_folder_error(m.dir, ErrorKind::kCorrupt, {index_path, "invalid file"});
  }
}

TEST(WeightStore, RejectsACorruptShardNamingIt) {
  ShardedModel m = write_sharded("corrupt_shard");
  test::write_text_file(m.dir + "/model-00002-of-00002.safetensors", "garbage!");
  expect_folder_error(m.dir, ErrorKind::kCorrupt, {"model-00002-of-00002.safetensors"});
}

TEST(WeightStore, ExplainsAFolderWithoutWeights) {
  const std::string dir = test::make_temp_dir("empty");
  expect_folder_error(dir, ErrorKind::kNotFound, {"no model.safetensors"});
  test::write_text_file(dir + "/pytorch_model.bin", "x");
  expect_folder_error(dir, ErrorKind::kUnsupported, {"safetensors"});
}

}  // namespace
}  // namespace kantu
