// ModelCosts against the arithmetic of the architecture written out from the config (not
// from the bound weights the implementation walks).
#include "models/model.h"

#include <gtest/gtest.h>

#include <memory>

#include "models/qwen3vl/config.h"
#include "support/testdata.h"

namespace kantu::models {
namespace {

TEST(ModelCosts, CountTheMatricesOfTheArchitecture) {
  auto model = Model::load(test::testdata("models/qwen3vl-tiny-a"), {.threads = 1});
  const qwen3vl::Config c = qwen3vl::load_config(test::testdata("models/qwen3vl-tiny-a"));
  const ModelCosts costs = model->costs();

  const double h = c.text.hidden_size, q = c.text.num_heads * c.text.head_dim,
               kv = c.text.num_kv_heads * c.text.head_dim, inter = c.text.intermediate_size;
  const double per_layer = h * q + 2 * h * kv + q * h + 3 * h * inter;
  const double lm_head = static_cast<double>(c.text.vocab_size) * h;
  EXPECT_DOUBLE_EQ(costs.text_macs_per_token, c.text.num_layers * per_layer);
  EXPECT_DOUBLE_EQ(costs.lm_head_macs, lm_head);
  // The tiny checkpoint is BF16: two bytes a weight.
  EXPECT_DOUBLE_EQ(costs.decode_weight_bytes, 2 * (c.text.num_layers * per_layer + lm_head));
  // Prefill: lm_head once; causal attention over 1 + 2 + 3 keys for 3 new tokens.
  EXPECT_DOUBLE_EQ(costs.prefill_macs(3),
                   3 * costs.text_macs_per_token + lm_head + 2 * 6 * c.text.num_layers * q);
  EXPECT_DOUBLE_EQ(costs.prefill_macs(1, 4) - costs.prefill_macs(1, 3),
                   2 * c.text.num_layers * q);  // one more cached key

  const qwen3vl::VisionConfig& v = c.vision;
  const double d = v.hidden_size, vi = v.intermediate_size, md = v.merged_dim();
  const double patch_dim = static_cast<double>(v.in_channels * v.temporal_patch_size) * v.patch_size * v.patch_size;
  EXPECT_DOUBLE_EQ(costs.vision_macs_per_patch,
                   patch_dim * d + v.depth * (3 * d * d + d * d + 2 * d * vi));
  const double merger = md * md + md * v.out_hidden_size;
  EXPECT_DOUBLE_EQ(costs.vision_macs_per_token,
                   merger * (1 + static_cast<double>(v.deepstack_visual_indexes.size())));
  const int64_t patches = 16;
  EXPECT_DOUBLE_EQ(costs.image_macs(patches),
                   patches * costs.vision_macs_per_patch +
                       patches / v.merge_unit() * costs.vision_macs_per_token +
                       2.0 * patches * patches * v.depth * d);
}

}  // namespace
}  // namespace kantu::models
