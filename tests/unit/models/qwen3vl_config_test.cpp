#include "models/qwen3vl/config.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "support/testdata.h"

namespace kantu::models::qwen3vl {
namespace {

// A config.json in the official layout with the published sizes of one dense model
// (qwen3vl-architecture.md §1.1).
Json official_config(int64_t hidden, int64_t inter, int64_t layers, int64_t heads, bool tie,
                     int64_t v_depth, int64_t v_hidden, int64_t v_inter,
                     std::vector<int64_t> deepstack) {
  Json text = {{"hidden_size", hidden},
               {"intermediate_size", inter},
               {"num_hidden_layers", layers},
               {"num_attention_heads", heads},
               {"num_key_value_heads", 8},
               {"head_dim", 128},
               {"hidden_act", "silu"},
               {"rms_norm_eps", 1e-6},
               {"rope_theta", 5000000},
               {"rope_scaling",
                {{"rope_type", "default"}, {"mrope_section", {24, 20, 20}}, {"mrope_interleaved", true}}},
               {"max_position_embeddings", 262144},
               {"vocab_size", 151936},
               {"attention_bias", false},
               {"bos_token_id", 151643},
               {"eos_token_id", 151645},
               {"tie_word_embeddings", tie}};
  Json vision = {{"depth", v_depth},
                 {"hidden_size", v_hidden},
                 {"intermediate_size", v_inter},
                 {"num_heads", 16},
                 {"hidden_act", "gelu_pytorch_tanh"},
                 {"in_channels", 3},
                 {"patch_size", 16},
                 {"temporal_patch_size", 2},
                 {"spatial_merge_size", 2},
                 {"out_hidden_size", hidden},
                 {"num_position_embeddings", 2304},
                 {"deepstack_visual_indexes", deepstack}};
  return {{"model_type", "qwen3_vl"},
          {"image_token_id", 151655},
          {"video_token_id", 151656},
          {"vision_start_token_id", 151652},
          {"vision_end_token_id", 151653},
          {"tie_word_embeddings", tie},
          {"text_config", text},
          {"vision_config", vision}};
}

Json config_2b() { return official_config(2048, 6144, 28, 16, true, 24, 1024, 4096, {5, 11, 17}); }
Json config_4b() { return official_config(2560, 9728, 36, 32, true, 24, 1024, 4096, {5, 11, 17}); }
Json config_8b() { return official_config(4096, 12288, 36, 32, false, 27, 1152, 4304, {8, 16, 24}); }

void expect_error(const Json& doc, ErrorKind kind, const std::string& fragment) {
  try {
    parse_config(doc, "config.json");
    FAIL() << "expected an error mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }
}

TEST(Qwen3VLConfig, DenseModelShapesLoad) {
  Config c2 = parse_config(config_2b(), "2b");
  EXPECT_EQ(c2.text.num_heads * c2.text.head_dim, c2.text.hidden_size);
  EXPECT_TRUE(c2.tie_word_embeddings);
  EXPECT_EQ(c2.vision.head_dim, 64);
  EXPECT_EQ(c2.vision.pos_grid_side, 48);
  EXPECT_EQ(c2.vision.patch_dim(), 1536);
  EXPECT_EQ(c2.text.mrope_section, (std::array<int64_t, 3>{24, 20, 20}));

  Config c4 = parse_config(config_4b(), "4b");
  EXPECT_EQ(c4.text.num_heads * c4.text.head_dim, 4096);  // q_proj out != hidden
  EXPECT_EQ(c4.text.hidden_size, 2560);

  Config c8 = parse_config(config_8b(), "8b");
  EXPECT_FALSE(c8.tie_word_embeddings);
  EXPECT_EQ(c8.vision.head_dim, 72);
  EXPECT_EQ(c8.vision.deepstack_visual_indexes, (std::vector<int64_t>{8, 16, 24}));
  EXPECT_DOUBLE_EQ(c8.text.rope_theta, 5e6);
}

TEST(Qwen3VLConfig, TinyModelsLoad) {
  Config a = load_config(test::testdata("models/qwen3vl-tiny-a"));
  EXPECT_EQ(a.text.head_dim, 32);
  EXPECT_EQ(a.text.mrope_section, (std::array<int64_t, 3>{6, 5, 5}));
  EXPECT_EQ(a.vision.pos_grid_side, 8);
  Config c = load_config(test::testdata("models/qwen3vl-tiny-c"));
  EXPECT_EQ(c.text.num_heads * c.text.head_dim, 512);
  EXPECT_EQ(c.text.hidden_size, 64);
  EXPECT_EQ(c.vision.deepstack_visual_indexes.size(), 3u);
}

TEST(Qwen3VLConfig, RopeParametersOfTransformersV5) {
  Json doc = config_2b();
  Json& text = doc["text_config"];
  text.erase("rope_scaling");
  text.erase("rope_theta");
  text["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5000000}, {"mrope_section", {24, 20, 20}}};
  Config c = parse_config(doc, "v5");
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 5e6);
}

// transformers' interleaved M-RoPE reads only section[1] and section[2], as slice ends
// clipped at head_dim / 2, and never reads mrope_interleaved: every such config runs there.
TEST(Qwen3VLConfig, AcceptsEveryMropeSectionTransformersRuns) {
  for (const std::vector<int64_t>& section :
       {std::vector<int64_t>{16, 24, 24}, {24, 20, 19}, {0, 32, 32}, {64, 0, 0}, {24, 20, 20, 0}}) {
    Json doc = config_2b();
    doc["text_config"]["rope_scaling"]["mrope_section"] = section;
    doc["text_config"]["rope_scaling"]["mrope_interleaved"] = false;
    const Config c = parse_config(doc, "section");
    EXPECT_EQ(c.text.mrope_section[1], section[1]);
    EXPECT_EQ(c.text.mrope_section[2], section[2]);
  }
}

TEST(Qwen3VLConfig, BadFieldsAreClearErrors) {
  Json doc = config_2b();
  doc["text_config"].erase("hidden_size");
  expect_error(doc, ErrorKind::kCorrupt, "text_config.hidden_size is missing");

  doc = config_2b();
  doc["vision_config"]["depth"] = "24";
  expect_error(doc, ErrorKind::kCorrupt, "vision_config.depth must be an integer");

  doc = config_2b();
  doc["text_config"]["num_attention_heads"] = 0;
  expect_error(doc, ErrorKind::kCorrupt, "num_attention_heads must be a positive integer");

  doc = config_2b();
  doc["text_config"]["rope_scaling"]["mrope_section"] = {24, -20, 20};
  expect_error(doc, ErrorKind::kCorrupt, "mrope_section must be non-negative");

  doc = config_2b();
  doc["text_config"]["rope_scaling"]["mrope_section"] = {24, 20};
  expect_error(doc, ErrorKind::kCorrupt, "mrope_section must be a list of 3 integers");

  doc = config_2b();
  doc["text_config"]["num_key_value_heads"] = 5;
  expect_error(doc, ErrorKind::kCorrupt, "not a multiple of num_key_value_heads");

  doc = config_2b();
  doc["vision_config"]["deepstack_visual_indexes"] = {5, 11, 24};
  expect_error(doc, ErrorKind::kCorrupt, "outside the 24 vision blocks");

  doc = config_2b();
  doc["vision_config"]["num_position_embeddings"] = 2300;
  expect_error(doc, ErrorKind::kCorrupt, "perfect square");

  doc = config_2b();
  doc["vision_config"]["out_hidden_size"] = 1000;
  expect_error(doc, ErrorKind::kCorrupt, "differs from text_config.hidden_size");

  doc = config_2b();
  doc["model_type"] = "qwen2_5_vl";
  expect_error(doc, ErrorKind::kUnsupported, "qwen2_5_vl");

  doc = config_2b();
  doc["vision_config"]["hidden_act"] = "relu";
  expect_error(doc, ErrorKind::kUnsupported, "relu");

  doc = config_2b();
  doc["image_token_id"] = 999999;
  expect_error(doc, ErrorKind::kCorrupt, "image_token_id must be a token id");

  expect_error(Json::array(), ErrorKind::kCorrupt, "must be an object");
  doc = config_2b();
  doc.erase("text_config");
  expect_error(doc, ErrorKind::kCorrupt, "text_config is missing");
}

TEST(Qwen3VLConfig, MissingFolderIsNotFound) {
  try {
    load_config(test::make_temp_dir("cfg") + "/nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound) << e.what();
  }
}

}  // namespace
}  // namespace kantu::models::qwen3vl
