// `kantu info -m DIR`: JSON on stdout for both tiny models, clear errors and exit codes.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/json.h"
#include "core/mapped_file.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

test::CommandResult info(const std::string& dir) {
  return test::run_command({KANTU_EXE, "info", "-m", dir});
}

// The safetensors header read directly (independently of the formats code).
Json safetensors_header(const std::string& path, uint64_t* data_bytes) {
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
  *data_bytes = bytes.size() - 8 - n;
  Json header = Json::parse(bytes.substr(8, n));
  header.erase("__metadata__");
  return header;
}

class InfoOnTinyModels : public ::testing::TestWithParam<const char*> {};

TEST_P(InfoOnTinyModels, PrintsFamilySizesAndWeights) {
  const std::string dir = test::testdata(std::string("models/") + GetParam());
  const auto r = info(dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = Json::parse(r.out);
  const Json config = Json::parse(read_file(dir + "/config.json"));
  const Json& tc = config["text_config"];
  const Json& vc = config["vision_config"];
  EXPECT_EQ(out["family"], "qwen3_vl");
  EXPECT_EQ(out["model_type"], config["model_type"]);
  EXPECT_EQ(out["architecture"], config["architectures"][0]);
  for (const char* k : {"hidden_size", "num_hidden_layers", "num_attention_heads",
                        "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size"}) {
    EXPECT_EQ(out["text"][k], tc[k]) << k;
  }
  for (const char* k : {"depth", "hidden_size", "num_heads", "patch_size", "spatial_merge_size",
                        "deepstack_visual_indexes", "out_hidden_size", "intermediate_size"}) {
    EXPECT_EQ(out["vision"][k], vc[k]) << k;
  }

  uint64_t data_bytes = 0;
  const Json header = safetensors_header(dir + "/model.safetensors", &data_bytes);
  int64_t params = 0, bf16 = 0;
  for (const auto& [name, t] : header.items()) {
    int64_t n = 1;
    for (const auto& d : t["shape"]) n *= d.get<int64_t>();
    params += n;
    bf16 += t["dtype"] == "BF16";
  }
  EXPECT_EQ(out["tensor_count"].get<size_t>(), header.size());
  EXPECT_EQ(out["parameter_count"].get<int64_t>(), params);
  EXPECT_EQ(out["weight_bytes"].get<uint64_t>(), data_bytes);
  EXPECT_EQ(out["dtypes"]["BF16"]["tensors"].get<int64_t>(), bf16);
  ASSERT_EQ(out["files"].size(), 1u);
  EXPECT_EQ(out["files"][0]["name"], "model.safetensors");
  EXPECT_EQ(out["files"][0]["bytes"].get<uint64_t>(), fs::file_size(dir + "/model.safetensors"));
  EXPECT_EQ(out["generation"]["eos_token_ids"],
            Json::parse(read_file(dir + "/generation_config.json"))["eos_token_id"]);
  EXPECT_TRUE(out["tokenizer"]["has_vocabulary"].get<bool>());
}

INSTANTIATE_TEST_SUITE_P(E2E, InfoOnTinyModels, ::testing::Values("qwen3vl-tiny-a", "qwen3vl-tiny-c"));

TEST(InfoCli, MissingFolderIsNotFound) {
  const auto r = info("/nonexistent/kantu-model");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("/nonexistent/kantu-model"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(InfoCli, MissingOptionIsAUsageError) {
  const auto r = test::run_command({KANTU_EXE, "info"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--model"), std::string::npos) << r.err;
}

TEST(InfoCli, UnknownModelTypeIsUnsupported) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "info_llama");
  Json config = Json::parse(read_file(dir + "/config.json"));
  config["model_type"] = "llama";
  test::write_text_file(dir + "/config.json", config.dump());
  const auto r = info(dir);
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("unsupported model type llama"), std::string::npos) << r.err;
}

TEST(InfoCli, WrongTypedFieldNamesFileAndField) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-c", "info_field");
  Json config = Json::parse(read_file(dir + "/config.json"));
  config["text_config"]["hidden_size"] = -64;
  test::write_text_file(dir + "/config.json", config.dump());
  const auto r = info(dir);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("config.json: text_config.hidden_size must be a positive integer"),
            std::string::npos)
      << r.err;
}

TEST(InfoCli, TruncatedWeightsAreCorrupt) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "info_cut");
  const std::string bytes = read_file(dir + "/model.safetensors");
  fs::remove(dir + "/model.safetensors");
  test::write_text_file(dir + "/model.safetensors", bytes.substr(0, bytes.size() - 100));
  const auto r = info(dir);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("model.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST(InfoCli, MalformedConfigIsCorrupt) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "info_json");
  test::write_text_file(dir + "/config.json", "{\"model_type\": ");
  const auto r = info(dir);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
}

// The family judges preprocessor_config.json against config.json (its profile, as
// Model::load): a patch_size the vision tower does not read is refused by name.
TEST(InfoCli, PreprocessorContradictingTheVisionTowerIsCorrupt) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "info_pre");
  Json pre = Json::parse(read_file(dir + "/preprocessor_config.json"));
  pre["patch_size"] = 14;
  test::write_text_file(dir + "/preprocessor_config.json", pre.dump());
  const auto r = info(dir);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find(dir + "/preprocessor_config.json: patch_size 14 contradicts " + dir +
                       "/config.json: vision_config.patch_size 16"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
}  // namespace kantu
