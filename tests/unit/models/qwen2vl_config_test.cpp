// Qwen2-VL / Qwen2.5-VL config.json handling against transformers 4.57's config classes:
// both layouts, both rope_scaling spellings, the class defaults for absent keys, and the
// configurations transformers itself cannot run refused with the reason.
#include "models/qwen2vl/config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "formats/model_folder.h"
#include "models/model.h"
#include "support/testdata.h"

namespace kantu::models::qwen2vl {
namespace {

Json tiny(const char* model) {
  return read_json_file(test::testdata(std::string("models/") + model + "/config.json"));
}

void expect_error(const Json& doc, Variant v, ErrorKind kind, const std::string& fragment) {
  try {
    parse_config(doc, "config.json", v);
    ADD_FAILURE() << "expected an error with " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Qwen2VLConfig, TinyModelsParse) {
  const Config c = parse_config(tiny("qwen25vl-tiny-a"), "config.json", Variant::kQwen25VL);
  EXPECT_EQ(c.text.hidden_size, 32);
  EXPECT_EQ(c.text.head_dim, 16);
  EXPECT_EQ(c.text.num_kv_heads, 1);
  EXPECT_TRUE(c.text.qkv_bias);
  EXPECT_FALSE(c.text.qk_norm);
  EXPECT_TRUE(c.text.tie_word_embeddings);
  EXPECT_EQ(c.text.rope.kind, blocks::RopeKind::kMropeChunked);
  EXPECT_EQ(c.text.rope.section, (std::array<int64_t, 3>{2, 3, 3}));
  EXPECT_DOUBLE_EQ(c.text.rope.theta, 1e6);
  EXPECT_EQ(c.vision.window, 4);  // 112 px / 2 / 14
  EXPECT_EQ(c.vision.fullatt_block_indexes, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(c.vision.norm, blocks::NormKind::kRms);
  EXPECT_EQ(c.vision.mlp.kind, blocks::MlpKind::kGated);
  EXPECT_DOUBLE_EQ(c.tokens_per_second, 2);

  const Config q2 = parse_config(tiny("qwen2vl-tiny-a"), "config.json", Variant::kQwen2VL);
  EXPECT_EQ(q2.vision.hidden_size, 64);        // embed_dim
  EXPECT_EQ(q2.vision.intermediate_size, 256);  // embed_dim * mlp_ratio
  EXPECT_EQ(q2.vision.out_hidden_size, 32);     // hidden_size = the merger's output
  EXPECT_EQ(q2.vision.window, 0);
  EXPECT_EQ(q2.vision.norm, blocks::NormKind::kLayer);
  EXPECT_EQ(q2.vision.mlp.act, blocks::Activation::kQuickGelu);
}

// The official files write {"type": "mrope", "mrope_section": [...]}; a transformers
// re-save writes {"type": "default", "rope_type": "default", ...}; v5 rope_parameters.
TEST(Qwen2VLConfig, BothRopeSpellingsAndV5) {
  Json doc = tiny("qwen25vl-tiny-a");
  doc["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", {2, 3, 3}}};
  EXPECT_EQ(parse_config(doc, "official", Variant::kQwen25VL).text.rope.section[1], 3);
  doc.erase("rope_scaling");
  doc.erase("rope_theta");
  doc["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}, {"mrope_section", {2, 3, 3}}};
  EXPECT_DOUBLE_EQ(parse_config(doc, "v5", Variant::kQwen25VL).text.rope.theta, 5e5);
}

// The nested layout transformers 4.57's save_pretrained writes (kept in GENERATION_INFO).
TEST(Qwen2VLConfig, NestedTextConfig) {
  const Json info = read_json_file(test::testdata("models/qwen25vl-tiny-a/GENERATION_INFO.json"));
  const Json nested = info.at("config_json_written_by_save_pretrained_4_57_6");
  ASSERT_TRUE(nested.contains("text_config"));
  const Config a = parse_config(nested, "nested", Variant::kQwen25VL);
  const Config b = parse_config(tiny("qwen25vl-tiny-a"), "flat", Variant::kQwen25VL);
  EXPECT_EQ(a.text.hidden_size, b.text.hidden_size);
  EXPECT_EQ(a.text.num_layers, b.text.num_layers);
  EXPECT_EQ(a.text.rope.section, b.text.rope.section);
  EXPECT_EQ(a.text.tie_word_embeddings, b.text.tie_word_embeddings);
  EXPECT_EQ(a.vision.fullatt_block_indexes, b.vision.fullatt_block_indexes);
}

TEST(Qwen2VLConfig, AbsentKeysTakeTheClassDefaults) {
  Json doc = tiny("qwen25vl-tiny-a");
  for (const char* key : {"rms_norm_eps", "max_position_embeddings", "image_token_id", "rope_theta"}) {
    doc.erase(key);
  }
  for (const char* key : {"window_size", "fullatt_block_indexes", "tokens_per_second"}) {
    doc["vision_config"].erase(key);
  }
  const Config c = parse_config(doc, "defaults", Variant::kQwen25VL);
  EXPECT_FLOAT_EQ(c.text.norm_eps, 1e-5f);
  EXPECT_EQ(c.text.max_position_embeddings, 32768);
  EXPECT_EQ(c.image_token_id, 151655);
  EXPECT_DOUBLE_EQ(c.text.rope.theta, 1e6);
  EXPECT_EQ(c.vision.window, 4);
  EXPECT_EQ(c.vision.fullatt_block_indexes, (std::vector<int64_t>{7, 15, 23, 31}));
  EXPECT_DOUBLE_EQ(c.tokens_per_second, 4);
}

TEST(Qwen2VLConfig, RefusesWhatCannotRunWithTheReason) {
  const Json base = tiny("qwen25vl-tiny-a");
  Json doc = base;
  doc["rope_scaling"]["mrope_section"] = {2, 3, 4};
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kCorrupt, "sums to 9 but head_dim / 2 = 8");
  doc = base;
  doc["rope_scaling"].erase("mrope_section");
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kCorrupt, "mrope_section is missing");
  doc = base;
  doc["rope_scaling"]["type"] = "yarn";
  doc["rope_scaling"]["rope_type"] = "yarn";
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kUnsupported, "only the default rotary");
  doc = base;
  doc["num_attention_heads"] = 3;
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kCorrupt, "divisible by num_attention_heads");
  doc = base;
  doc["use_sliding_window"] = true;
  doc["max_window_layers"] = 1;
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kUnsupported, "sliding-window");
  doc = base;
  doc["vision_config"]["window_size"] = 20;
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kCorrupt, "window_size must be at least");
  doc = base;
  doc["vision_config"]["out_hidden_size"] = 48;
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kCorrupt, "differs from the text hidden_size");
  doc = base;
  doc["hidden_act"] = "relu";
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kUnsupported, "relu");
  doc = base;
  doc["model_type"] = "qwen2_vl";
  expect_error(doc, Variant::kQwen25VL, ErrorKind::kUnsupported, "is not qwen2_5_vl");
  // Sliding window configured but never reached (max_window_layers >= layers): it runs.
  doc = base;
  doc["use_sliding_window"] = true;
  doc["max_window_layers"] = 3;
  EXPECT_NO_THROW(parse_config(doc, "c", Variant::kQwen25VL));
}

TEST(Qwen2VLConfig, ProfilesCarryTheFamilyProcessorAndChat) {
  for (const char* name : {"qwen25vl-tiny-a", "qwen2vl-tiny-a"}) {
    const ModelFolder m = ModelFolder::open(test::testdata(std::string("models/") + name),
                                            {.load_weights = false});
    const ModelProfile p = profile_of(m);
    EXPECT_EQ(p.image.patch_size, 14);
    EXPECT_EQ(p.image.min_pixels, 3136);
    EXPECT_EQ(p.image.max_pixels, 12845056);
    EXPECT_NEAR(p.image.image_mean[0], 0.48145466, 1e-7);
    EXPECT_FALSE(p.image.fused_normalize);  // "Qwen2VLImageProcessor", the slow class
    EXPECT_EQ(p.chat_format().name(), "qwen2-vl");
  }
}

}  // namespace
}  // namespace kantu::models::qwen2vl
