#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "models/qwen2vl/config.h"
#include "runtime/synth.h"
#include "support/testdata.h"

namespace kantu::runtime {
namespace {

int64_t count_parameters(const std::vector<SynthTensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

// The tensor list derived from a real checkpoint's config.json must name exactly the
// tensors (and shapes) that checkpoint holds.
void expect_matches_checkpoint(const std::string& model) {
  const Json config = read_json_file(test::testdata("models/" + model + "/config.json"));
  const auto tensors = synth_tensors(config);
  const auto file = SafetensorsFile::open(test::testdata("models/" + model + "/model.safetensors"));
  ASSERT_EQ(tensors.size(), file.tensors().size()) << model;
  for (const SynthTensor& t : tensors) {
    ASSERT_TRUE(file.has(t.name)) << model << ": " << t.name;
    EXPECT_EQ(file.get(t.name).shape, t.shape) << model << ": " << t.name;
  }
}

TEST(SynthShapes, TensorListMatchesTheTinyCheckpoints) {
  expect_matches_checkpoint("qwen3vl-tiny-a");
  expect_matches_checkpoint("qwen3vl-tiny-c");
  expect_matches_checkpoint("qwen25vl-tiny-a");  // the official flat layout and names
  expect_matches_checkpoint("qwen2vl-tiny-a");
}

// The released Qwen2.5-VL / Qwen2-VL sizes: every known config loads as its family does,
// and the parameter counts are the published ones (3.75B, 8.29B, 2.21B).
TEST(SynthShapes, Qwen2FamiliesFullSize) {
  const struct {
    const char* name;
    double params;
  } cases[] = {{"qwen2.5-vl-3b", 3.754e9}, {"qwen2.5-vl-7b", 8.292e9}, {"qwen2-vl-2b", 2.209e9}};
  for (const auto& c : cases) {
    const Json config = synth_config(c.name);
    const double p = static_cast<double>(count_parameters(synth_tensors(config)));
    EXPECT_NEAR(p / c.params, 1.0, 0.01) << c.name << ": " << p;
    const auto kind = config.at("model_type") == "qwen2_vl" ? models::qwen2vl::Variant::kQwen2VL
                                                            : models::qwen2vl::Variant::kQwen25VL;
    const models::qwen2vl::Config parsed = models::qwen2vl::parse_config(config, c.name, kind);
    EXPECT_EQ(parsed.text.head_dim, 128) << c.name;
    EXPECT_EQ(parsed.text.rope.section, (std::array<int64_t, 3>{16, 24, 24})) << c.name;
    EXPECT_EQ(parsed.vision.hidden_size, 1280) << c.name;
  }
  EXPECT_EQ(synth_config("qwen2.5-vl-3b")["vision_config"]["fullatt_block_indexes"],
            (Json{7, 15, 23, 31}));
}

// LLaVA: the tiny checkpoints' tensor lists, and the published llava-hf parameter counts
// (llava-1.5-7b-hf: 7,063,427,072; NeXT adds image_newline; Mistral's 14336-wide MLP and 8
// kv heads make 7.57B).
TEST(SynthShapes, LlavaTensorListsAndParameterCounts) {
  expect_matches_checkpoint("llava15-tiny-a");
  expect_matches_checkpoint("llava-next-tiny-a");
  EXPECT_EQ(count_parameters(synth_tensors(synth_config("llava-1.5-7b"))), 7'063'427'072);
  EXPECT_EQ(count_parameters(synth_tensors(synth_config("llava-next-vicuna-7b"))), 7'063'427'072 + 4096);
  EXPECT_EQ(count_parameters(synth_tensors(synth_config("llava-next-mistral-7b"))), 7'566'747'648);
  const Json mistral = synth_config("llava-next-mistral-7b");
  EXPECT_EQ(mistral["model_type"], "llava_next");
  EXPECT_EQ(mistral["text_config"]["model_type"], "mistral");
  EXPECT_TRUE(mistral["text_config"]["sliding_window"].is_null());
  Json bad = synth_config("llava-1.5-7b");
  bad["text_config"]["hidden_size"] = -1;
  EXPECT_THROW(synth_tensors(bad), Error);
}

TEST(SynthShapes, FullSizeParameterCounts) {
  // Hand count from §1.1: text 311.2M embedding + 28 x 50.3M layers, vision 24 x 12.6M
  // blocks + 4 mergers of 25.2M + patch/pos embeddings: ~2.13B for the 2B model.
  const int64_t p2 = count_parameters(synth_tensors(synth_config("qwen3-vl-2b")));
  EXPECT_GT(p2, 2'100'000'000);
  EXPECT_LT(p2, 2'150'000'000);
  const int64_t p8 = count_parameters(synth_tensors(synth_config("qwen3-vl-8b")));
  EXPECT_GT(p8, 8'600'000'000);  // untied head: lm_head.weight is present
  EXPECT_LT(p8, 8'900'000'000);
  const auto t8 = synth_tensors(synth_config("qwen3-vl-8b"));
  bool has_head = false;
  for (const auto& t : t8) has_head |= t.name == "lm_head.weight";
  EXPECT_TRUE(has_head);
  const Json c4 = synth_config("qwen3-vl-4b");
  EXPECT_EQ(c4["text_config"]["hidden_size"], 2560);
  EXPECT_EQ(c4["text_config"]["num_attention_heads"], 32);  // q_proj 4096 != hidden
  EXPECT_EQ(c4["vision_config"]["out_hidden_size"], 2560);
}

TEST(SynthShapes, UnknownShapeAndBadConfigsAreClearErrors) {
  try {
    synth_config("qwen3-vl-3b");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("qwen3-vl-2b"), std::string::npos);
  }
  Json c = synth_config("tiny");
  c["text_config"]["hidden_size"] = -1;
  EXPECT_THROW(synth_tensors(c), Error);
  c = synth_config("tiny");
  c["vision_config"].erase("depth");
  EXPECT_THROW(synth_tensors(c), Error);
  c = synth_config("tiny");
  c["vision_config"]["deepstack_visual_indexes"] = {99};
  EXPECT_THROW(synth_tensors(c), Error);
  EXPECT_THROW(synth_tensors(Json::array()), Error);
}

}  // namespace
}  // namespace kantu::runtime
