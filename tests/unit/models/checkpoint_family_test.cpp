// The released preprocessor / generation configs `kantu synth` writes for a config.json
// follow the registry's identification of it: a config naming its model class in
// architectures only (no model_type) gets its own variant's files.
#include <gtest/gtest.h>

#include "core/json.h"
#include "models/checkpoint.h"

namespace kantu::models {
namespace {

Json architecture_only(const std::string& name) {
  Json config = known_config(name);
  config.erase("model_type");
  return config;
}

TEST(CheckpointConfigs, FollowTheVariantWithoutModelType) {
  EXPECT_EQ(checkpoint_preprocessor_config(architecture_only("llava-next-tiny"))["image_processor_type"],
            "LlavaNextImageProcessor");
  EXPECT_EQ(checkpoint_preprocessor_config(architecture_only("llava-1.5-tiny"))["image_processor_type"],
            "CLIPImageProcessor");
  EXPECT_TRUE(checkpoint_generation_config(architecture_only("llava-1.5-tiny")).contains("pad_token_id"));
  EXPECT_FALSE(checkpoint_generation_config(architecture_only("llava-next-tiny")).contains("pad_token_id"));
  for (const KnownConfig& k : known_configs()) {
    SCOPED_TRACE(k.name);
    Json config = k.config;
    if (!config.contains("architectures")) continue;
    config.erase("model_type");
    EXPECT_EQ(checkpoint_preprocessor_config(config), checkpoint_preprocessor_config(k.config));
    EXPECT_EQ(checkpoint_generation_config(config), checkpoint_generation_config(k.config));
    EXPECT_EQ(checkpoint_tensors(config).size(), checkpoint_tensors(k.config).size());
  }
}

}  // namespace
}  // namespace kantu::models
