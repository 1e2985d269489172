// Model::begin_encode: the vision tower in pieces of encoder blocks (what the server runs
// between other streams' decode steps) gives exactly encode_images' output, for the Qwen
// tower (DeepStack taps, windowed blocks) and a tower that runs whole (CLIP).
#include <gtest/gtest.h>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "models/model.h"

namespace kantu {
namespace {

void expect_pieces_equal_whole(models::Model& model, const std::vector<models::VisualInput>& inputs) {
  const models::VisionOutput whole = model.encode_images(inputs);
  for (const int64_t blocks : {1, 3}) {
    SCOPED_TRACE("pieces of " + std::to_string(blocks) + " blocks");
    auto encoding = model.begin_encode(inputs);
    int pieces = 0;
    while (!encoding->step(blocks)) ++pieces;
    EXPECT_TRUE(encoding->done());
    const models::VisionOutput out = encoding->take();
    EXPECT_EQ(out.n_tokens, whole.n_tokens);
    EXPECT_EQ(out.tokens_per_image, whole.tokens_per_image);
    EXPECT_EQ(out.embeds, whole.embeds);  // the same operations in the same order: bit for bit
    EXPECT_EQ(out.deepstack, whole.deepstack);
    if (blocks == 1) {
      EXPECT_GT(pieces, 0);
    }
  }
}

TEST(ImageEncoding, QwenTowersInPiecesEqualTheWholeEncode) {
  for (const std::string name : {"tiny-a", "qwen25vl/tiny-a", "qwen2vl/tiny-a"}) {
    SCOPED_TRACE(name);
    models::Model& model = test::cached_model(name);
    const test::TestImage a = test::preprocess_test_image("model_ns_256x160.png", name);
    const test::TestImage b = test::preprocess_test_image("img_288x352.png", name);
    expect_pieces_equal_whole(model, {{a.pixel_values.data(), a.grid}});
    expect_pieces_equal_whole(model, {{a.pixel_values.data(), a.grid}, {b.pixel_values.data(), b.grid}});
  }
}

TEST(ImageEncoding, AClipTowerRunsWholeInOnePiece) {
  auto model = models::Model::load(test::testdata("models/llava15-tiny-a"), {.threads = 2});
  const test::TestImage a = [&] {
    RgbImage rgb = decode_image_file(test::testdata("images/img_256x256.png"));
    PreprocessedImage p = preprocess_image(rgb, model->profile().image);
    return test::TestImage{std::move(p.pixel_values), {p.grid.t, p.grid.h, p.grid.w}};
  }();
  auto encoding = model->begin_encode({{a.pixel_values.data(), a.grid}});
  EXPECT_TRUE(encoding->done());
  EXPECT_TRUE(encoding->step(1));
  EXPECT_EQ(encoding->take().embeds, model->encode_images({{a.pixel_values.data(), a.grid}}).embeds);
}

}  // namespace
}  // namespace kantu
