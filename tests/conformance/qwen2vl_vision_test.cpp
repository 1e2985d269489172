// The Qwen2-VL and Qwen2.5-VL vision towers against the transformers goldens
// (goldens/<family>/tiny-a/vision): patch embedding, rotary table, the window index and
// window boundaries (Qwen2.5-VL), every block's output (in window order as HF holds it,
// and back in natural order), and the merger output. Row-relative tolerance 1e-4 (the
// goldens' float64 recomputation puts float32 error near 1e-6).
#include <gtest/gtest.h>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "models/model.h"

namespace kantu {
namespace {

constexpr double kTol = 1e-4;

using Case = test::GoldenCase;

class Qwen2VisionGolden : public ::testing::TestWithParam<Case> {};

TEST_P(Qwen2VisionGolden, EveryIntermediateMatches) {
  const Case& c = GetParam();
  models::Model& model = test::cached_model(c.model);
  const test::VisionGoldenFile golden = test::load_vision_golden(c.model, c.name);
  const SafetensorsFile& g = golden.tensors;
  const Json& meta = golden.meta;

  std::vector<test::TestImage> images = test::golden_images(meta, c.model);
  const std::vector<int64_t> thw = test::to_i64(g.get("image_grid_thw"));
  ASSERT_EQ(thw.size(), 3 * images.size());
  std::vector<models::VisualInput> inputs;
  for (size_t i = 0; i < images.size(); ++i) {
    ASSERT_EQ(images[i].grid.t, thw[3 * i]);
    ASSERT_EQ(images[i].grid.h, thw[3 * i + 1]);
    ASSERT_EQ(images[i].grid.w, thw[3 * i + 2]);
    inputs.push_back({images[i].pixel_values.data(), images[i].grid});
  }
  if (g.has("pixel_values")) {  // our preprocessing is the golden's input
    const TensorView& pv = g.get("pixel_values");
    ASSERT_EQ(static_cast<size_t>(pv.numel()), images[0].pixel_values.size());
    test::expect_close("pixel_values", {pv.shape[0], pv.shape[1]}, images[0].pixel_values, pv, 1e-6);
  }

  models::Dumps dumps;
  const models::VisionOutput out = model.encode_images(inputs, &dumps);
  int compared = 0;
  for (const auto& [name, view] : g.tensors()) {
    if (name == "pixel_values" || name == "image_grid_thw" || name == "cu_seqlens") continue;
    SCOPED_TRACE(c.model + "/" + c.name + ": " + name);
    auto it = dumps.find("vision." + name);
    ASSERT_NE(it, dumps.end()) << "kantu has no dump named vision." << name;
    if (view.dtype == DType::kI64) {  // indexes and boundaries: exact
      const std::vector<int64_t> want = test::to_i64(view);
      ASSERT_EQ(it->second.data.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_EQ(static_cast<int64_t>(it->second.data[i]), want[i]) << "at " << i;
      }
    } else {
      test::expect_close(name, it->second.shape, it->second.data, view, kTol);
    }
    ++compared;
  }
  EXPECT_GE(compared, 4);
  int64_t expected_tokens = 0;
  for (const auto& t : meta.at("tokens_per_image")) expected_tokens += t.get<int64_t>();
  EXPECT_EQ(out.n_tokens, expected_tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Qwen2Families, Qwen2VisionGolden,
    ::testing::Values(Case{"qwen25vl/tiny-a", "single_288x352"},
                      Case{"qwen25vl/tiny-a", "square_224x224"},
                      Case{"qwen25vl/tiny-a", "batch_two_images"},
                      Case{"qwen2vl/tiny-a", "single_288x352"},
                      Case{"qwen2vl/tiny-a", "square_224x224"},
                      Case{"qwen2vl/tiny-a", "batch_two_images"}),
    test::case_name<Case>);

}  // namespace
}  // namespace kantu
