// The LLaVA config parser: the transformers defaults a llava-hf config leaves out, the
// Mistral text model, and clear errors for what is malformed or what kantu cannot run.
#include <gtest/gtest.h>

#include "core/json.h"
#include "formats/clip_preprocessor_config.h"
#include "formats/llava_config.h"
#include "support/expect_error.h"

namespace kantu::llava {
namespace {

Config parse(const std::string& text) { return parse_config(Json::parse(text), "config.json"); }

TEST(LlavaConfig, OmittedFieldsTakeTheClassDefaults) {
  // llava-hf/llava-1.5-7b-hf lists only these.
  const Config c = parse(R"({"model_type": "llava", "text_config": {"model_type": "llama",
      "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "vocab_size": 32064},
      "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
      "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768}})");
  EXPECT_FALSE(c.next);
  EXPECT_EQ(c.text.hidden_size, 4096);
  EXPECT_EQ(c.text.intermediate_size, 11008);
  EXPECT_EQ(c.text.num_layers, 32);
  EXPECT_EQ(c.text.num_kv_heads, 32);
  EXPECT_EQ(c.text.head_dim, 128);
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 10000.0);
  EXPECT_EQ(c.text.hidden_act, "silu");
  EXPECT_FALSE(c.text.tie_word_embeddings);
  EXPECT_EQ(c.vision.hidden_act, "quick_gelu");
  EXPECT_FLOAT_EQ(c.vision.layer_norm_eps, 1e-5f);
  EXPECT_EQ(c.vision.positions(), 577);
  EXPECT_EQ(c.image_token_id, 32000);
  EXPECT_EQ(c.feature_indexes(), (std::vector<int64_t>{23}));
  EXPECT_TRUE(c.drop_cls);
  EXPECT_EQ(c.projector_act, "gelu");
  EXPECT_EQ(c.tile_tokens(), 576);
}

TEST(LlavaConfig, MistralAndNextDefaults) {
  const Config c = parse(R"({"model_type": "llava_next", "text_config": {"model_type": "mistral",
      "max_position_embeddings": 32768, "rope_theta": 1000000.0, "sliding_window": null,
      "vocab_size": 32064}, "vision_config": {"image_size": 336, "patch_size": 14},
      "vision_feature_layer": [-2, -5]})");
  EXPECT_TRUE(c.next);
  EXPECT_EQ(c.text.intermediate_size, 14336);
  EXPECT_EQ(c.text.num_kv_heads, 8);
  EXPECT_EQ(c.text.sliding_window, 0);
  EXPECT_DOUBLE_EQ(c.text.rope_theta, 1e6);
  EXPECT_EQ(c.image_grid_pinpoints.size(), 5u);
  EXPECT_EQ(c.feature_indexes(), (std::vector<int64_t>{11, 8}));
  EXPECT_EQ(c.projector_in(), 2 * 768);
  EXPECT_EQ(parse(R"({"model_type": "llava_next", "text_config": {"model_type": "mistral"}})").text.sliding_window, 4096);
  // No vision_config at all: the CLIP ViT-L/14-336 transformers builds.
  EXPECT_EQ(parse(R"({"model_type": "llava"})").vision.hidden_size, 1024);
}

TEST(LlavaConfig, BadOrUnsupportedFieldsAreClearErrors) {
  test::expect_error([] { parse(R"({"model_type": "llava", "vision_config": {"model_type": "siglip_vision_model"}})"); },
                     ErrorKind::kUnsupported, "siglip_vision_model");
  test::expect_error([] { parse(R"({"model_type": "llava", "text_config": {"model_type": "qwen2"}})"); },
                     ErrorKind::kUnsupported, "qwen2");
  test::expect_error([] { parse(R"({"model_type": "llava", "text_config": {"rope_scaling": {"rope_type": "llama3", "factor": 8}}})"); },
                     ErrorKind::kUnsupported, "llama3");
  test::expect_error([] { parse(R"({"model_type": "llava", "vision_feature_layer": 30})"); }, ErrorKind::kCorrupt,
                     "vision_feature_layer");
  test::expect_error([] { parse(R"({"model_type": "llava", "vision_feature_layer": []})"); }, ErrorKind::kCorrupt,
                     "vision_feature_layer");
  test::expect_error([] { parse(R"({"model_type": "llava", "vision_feature_select_strategy": "cls"})"); },
                     ErrorKind::kCorrupt, "vision_feature_select_strategy");
  test::expect_error([] { parse(R"({"model_type": "llava_next", "vision_feature_select_strategy": "full"})"); },
                     ErrorKind::kUnsupported, "full");
  test::expect_error([] { parse(R"({"model_type": "llava", "text_config": {"hidden_size": -4}})"); },
                     ErrorKind::kCorrupt, "text_config.hidden_size");
  test::expect_error([] { parse(R"({"model_type": "llava", "text_config": {"num_key_value_heads": 5}})"); },
                     ErrorKind::kCorrupt, "num_key_value_heads");
  test::expect_error([] { parse(R"({"model_type": "llava", "image_token_index": -1})"); }, ErrorKind::kCorrupt,
                     "image_token_index");
  test::expect_error([] { parse(R"({"model_type": "llava_next", "image_grid_pinpoints": [[336, "x"]]})"); },
                     ErrorKind::kCorrupt, "image_grid_pinpoints");
  test::expect_error([] { parse(R"({"model_type": "llava", "vision_config": {"patch_size": 13, "image_size": 336}})"); },
                     ErrorKind::kCorrupt, "patch_size");
}

// transformers' LlavaConfig / LlavaNextConfig load a config.json without model_type (the
// model class picks its config class): identified by architectures as the registry does,
// text_config without model_type is a LlamaConfig, vision_config without one a CLIPVisionConfig.
TEST(LlavaConfig, WithoutModelTypesTheArchitecturesAndClassDefaultsDecide) {
  const Config v15 = parse(R"({"architectures": ["LlavaForConditionalGeneration"],
      "text_config": {"hidden_size": 64, "num_attention_heads": 4, "vocab_size": 100},
      "vision_config": {"hidden_size": 32, "num_attention_heads": 2}})");
  EXPECT_FALSE(v15.next);
  EXPECT_EQ(v15.text.model_type, "llama");
  EXPECT_EQ(v15.text.num_kv_heads, 4);  // Llama: the heads (Mistral's default would be 8)
  EXPECT_EQ(v15.text.intermediate_size, 11008);
  EXPECT_EQ(v15.vision.hidden_size, 32);
  EXPECT_EQ(v15.vision.hidden_act, "quick_gelu");
  const Config next = parse(R"({"architectures": ["LlavaNextForConditionalGeneration"]})");
  EXPECT_TRUE(next.next);
  EXPECT_EQ(next.image_grid_pinpoints.size(), 5u);
  EXPECT_EQ(next.vision.hidden_size, 1024);  // no vision_config: CLIP ViT-L/14-336
  // model_type, when present, decides (it picks the config class in transformers).
  EXPECT_TRUE(parse(R"({"model_type": "llava_next", "architectures": ["LlavaForConditionalGeneration"]})").next);
}

TEST(LlavaConfig, AConfigThatNamesNoLlavaIsRefused) {
  test::expect_error([] { parse("{}"); }, ErrorKind::kNotFound, "model_type is missing and no architectures");
  test::expect_error([] { parse(R"({"architectures": ["LlamaForCausalLM"]})"); }, ErrorKind::kNotFound,
                     "architectures LlamaForCausalLM names no model kantu runs");
  test::expect_error([] { parse(R"({"model_type": "qwen2_vl"})"); }, ErrorKind::kUnsupported,
                     "config.json: qwen2_vl (Qwen2VLForConditionalGeneration) is not LLaVA");
  test::expect_error([] { parse(R"({"model_type": "llama"})"); }, ErrorKind::kUnsupported,
                     "unsupported model type llama");
}

// config.json's image_grid_pinpoints (LlavaNextConfig) and preprocessor_config.json's
// (LlavaNextImageProcessor) are one form, read by one parser: the same canvases, the same
// defaults, the same limits.
TEST(LlavaConfig, PinpointsAreReadAsTheProcessorReadsThem) {
  const std::string list = R"([[336, 672], [1008, 336]])";
  const Config c = parse(R"({"model_type": "llava_next", "image_grid_pinpoints": )" + list + "}");
  const ClipPreprocessorConfig p =
      parse_clip_preprocessor_config(Json::parse(R"({"image_grid_pinpoints": )" + list + "}"), "pre.json", true);
  EXPECT_EQ(c.image_grid_pinpoints, p.image_grid_pinpoints);
  EXPECT_EQ(c.image_grid_pinpoints, (std::vector<std::array<int64_t, 2>>{{336, 672}, {1008, 336}}));
  EXPECT_EQ(parse(R"({"model_type": "llava_next"})").image_grid_pinpoints,
            parse_clip_preprocessor_config(Json::object(), "pre.json", true).image_grid_pinpoints);
  for (const char* bad : {R"([[336, 20000]])", R"([])", R"([[336]])", R"([[0, 336]])"}) {
    SCOPED_TRACE(bad);
    test::expect_error([&] { parse(std::string(R"({"model_type": "llava_next", "image_grid_pinpoints": )") + bad + "}"); },
                       ErrorKind::kCorrupt, "config.json: image_grid_pinpoints must be");
    test::expect_error(
        [&] {
          parse_clip_preprocessor_config(Json::parse(std::string(R"({"image_grid_pinpoints": )") + bad + "}"),
                                         "pre.json", true);
        },
        ErrorKind::kCorrupt, "pre.json: image_grid_pinpoints must be");
  }
}

}  // namespace
}  // namespace kantu::llava
