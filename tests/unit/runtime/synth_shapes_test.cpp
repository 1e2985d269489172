#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "core/json.h"
#include "formats/safetensors.h"
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
  const auto tensors = qwen3vl_tensors(config);
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
}

TEST(SynthShapes, FullSizeParameterCounts) {
  // Hand count from §1.1: text 311.2M embedding + 28 x 50.3M layers, vision 24 x 12.6M
  // blocks + 4 mergers of 25.2M + patch/pos embeddings: ~2.13B for the 2B model.
  const int64_t p2 = count_parameters(qwen3vl_tensors(synth_config("qwen3-vl-2b")));
  EXPECT_GT(p2, 2'100'000'000);
  EXPECT_LT(p2, 2'150'000'000);
  const int64_t p8 = count_parameters(qwen3vl_tensors(synth_config("qwen3-vl-8b")));
  EXPECT_GT(p8, 8'600'000'000);  // untied head: lm_head.weight is present
  EXPECT_LT(p8, 8'900'000'000);
  const auto t8 = qwen3vl_tensors(synth_config("qwen3-vl-8b"));
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
  EXPECT_THROW(qwen3vl_tensors(c), Error);
  c = synth_config("tiny");
  c["vision_config"].erase("depth");
  EXPECT_THROW(qwen3vl_tensors(c), Error);
  c = synth_config("tiny");
  c["vision_config"]["deepstack_visual_indexes"] = {99};
  EXPECT_THROW(qwen3vl_tensors(c), Error);
  EXPECT_THROW(qwen3vl_tensors(Json::array()), Error);
}

}  // namespace
}  // namespace kantu::runtime
