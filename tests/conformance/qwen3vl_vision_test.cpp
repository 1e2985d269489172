// The vision tower against the transformers goldens (goldens/qwen3vl/<model>/vision/):
// every named intermediate, for each tiny model and each case.
// Metric: per row, max |kantu - golden| / max |golden|; tolerance 1e-4 (f32 mode; the
// expected error of an f32 implementation is ~1e-5).
#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "formats/weight_store.h"
#include "models/model.h"
#include "models/qwen3vl/config.h"
#include "models/blocks/pos_embed.h"
#include "models/blocks/rope.h"

namespace kantu {
namespace {

using models::GridTHW;
constexpr double kTol = 1e-4;

using Case = test::GoldenCase;

class VisionGolden : public ::testing::TestWithParam<Case> {};

// Position tables depend only on the grids: checked for every case.
TEST_P(VisionGolden, PositionEmbeddingAndRotaryTables) {
  const Case& c = GetParam();
  models::Model& model = test::cached_model(c.model);
  const test::VisionGoldenFile golden = test::load_vision_golden(c.model, c.name);
  const SafetensorsFile& g = golden.tensors;
  const std::vector<GridTHW>& grids = golden.grids;
  const auto v = models::qwen3vl::load_config(test::model_path(c.model)).vision;
  (void)model;

  // The interpolation only needs the table: read it straight from the checkpoint.
  auto store = WeightStore::open_folder(test::model_path(c.model));
  std::vector<float> table = to_f32(store.get("model.visual.pos_embed.weight"));
  std::vector<float> pos = models::blocks::interpolate_pos_embed(
      table, v.pos_grid_side, v.hidden_size, v.spatial_merge_size, grids);
  int64_t n = 0;
  for (const auto& gr : grids) n += gr.patches();
  test::expect_close("pos_embeds_interpolated", {n, v.hidden_size}, pos,
                     g.get("pos_embeds_interpolated"), kTol);

  std::vector<float> rot = models::blocks::vision_rope_angles(v.head_dim, v.spatial_merge_size, grids);
  test::expect_close("rot_pos_emb", {n, v.head_dim / 2}, rot, g.get("rot_pos_emb"), kTol);
}

// The full tower from the golden pixel_values where the case carries them, else from
// kantu's own preprocessing of the case's images.
class VisionGoldenFull : public VisionGolden {};
TEST_P(VisionGoldenFull, EveryIntermediateMatches) {
  const Case& c = GetParam();
  models::Model& model = test::cached_model(c.model);
  const test::VisionGoldenFile golden = test::load_vision_golden(c.model, c.name);
  const SafetensorsFile& g = golden.tensors;
  const Json& meta = golden.meta;
  const std::vector<GridTHW>& grids = golden.grids;

  std::vector<std::vector<float>> pixels;
  if (g.has("pixel_values")) {
    ASSERT_EQ(grids.size(), 1u);
    pixels.push_back(to_f32(g.get("pixel_values")));
  } else {
    for (test::TestImage& img : test::golden_images(meta)) pixels.push_back(std::move(img.pixel_values));
  }
  ASSERT_EQ(pixels.size(), grids.size());
  std::vector<models::VisualInput> inputs;
  for (size_t i = 0; i < grids.size(); ++i) {
    ASSERT_EQ(static_cast<int64_t>(pixels[i].size()), grids[i].patches() * model.patch_dim())
        << "preprocessing gave a different grid for image " << i;
    inputs.push_back({pixels[i].data(), grids[i]});
  }

  models::Dumps dumps;
  models::VisionOutput out = model.encode_images(inputs, &dumps);
  const auto v = models::qwen3vl::load_config(test::model_path(c.model)).vision;
  for (const auto& [name, view] : g.tensors()) {
    if (name == "pixel_values" || name == "image_grid_thw") continue;
    SCOPED_TRACE(c.model + "/" + c.name + ": " + name);
    auto it = dumps.find("vision." + name);
    ASSERT_NE(it, dumps.end()) << "kantu has no dump named vision." << name;
    test::expect_close(name, it->second.shape, it->second.data, view, kTol);
  }
  EXPECT_EQ(out.deepstack.size(), v.deepstack_visual_indexes.size());
  int64_t expected_tokens = 0;
  for (const auto& t : meta.at("tokens_per_image")) expected_tokens += t.get<int64_t>();
  EXPECT_EQ(out.n_tokens, expected_tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Qwen3VL, VisionGolden,
    ::testing::Values(Case{"tiny-a", "square_224x224"}, Case{"tiny-a", "nonsquare_333x517_resized"},
                      Case{"tiny-a", "batch_two_images"}, Case{"tiny-c", "square_224x224"},
                      Case{"tiny-c", "nonsquare_333x517_resized"},
                      Case{"tiny-c", "batch_two_images"}),
    test::case_name<Case>);

INSTANTIATE_TEST_SUITE_P(
    Qwen3VL, VisionGoldenFull,
    ::testing::Values(Case{"tiny-a", "square_224x224"}, Case{"tiny-a", "nonsquare_333x517_resized"},
                      Case{"tiny-a", "batch_two_images"}, Case{"tiny-c", "square_224x224"},
                      Case{"tiny-c", "nonsquare_333x517_resized"},
                      Case{"tiny-c", "batch_two_images"}),
    test::case_name<Case>);

}  // namespace
}  // namespace kantu
