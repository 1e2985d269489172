// LLaVA-1.5 (LlavaForConditionalGeneration) and LLaVA-NeXT (LlavaNextForConditionalGeneration)
// configuration, parsed from a config.json in the llava-hf style: text_config and
// vision_config list only what differs from their classes' defaults, so the defaults of
// transformers 4.57 are part of the format and are applied here:
//   LlamaConfig  (text_config.model_type "llama", the default): hidden 4096, ffn 11008,
//                32 layers, 32 heads, kv heads = heads, silu, rms_norm_eps 1e-6,
//                rope_theta 10000, max_position_embeddings 2048, vocab 32000, no biases,
//                untied head;
//   MistralConfig ("mistral"): the same but ffn 14336, 8 kv heads, 131072 positions,
//                sliding_window 4096 (no attention or MLP biases);
//   CLIPVisionConfig ("clip_vision_model"): hidden 768, ffn 3072, 12 layers, 12 heads,
//                image 224, patch 32, quick_gelu, layer_norm_eps 1e-5;
//   Llava(Next)Config: image_token_index 32000, projector_hidden_act gelu, multimodal
//                projector biases, vision_feature_layer -2, strategy "default",
//                (NeXT) the five 336-px pinpoints; when a sub-config is absent entirely, the
//                7B defaults transformers builds (CLIP ViT-L/14-336, Llama-7B).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu::llava {

struct TextConfig {
  std::string model_type = "llama";
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_layers = 32;
  int64_t num_heads = 32;
  int64_t num_kv_heads = 32;
  int64_t head_dim = 128;
  int64_t vocab_size = 32000;
  int64_t max_position_embeddings = 2048;
  int64_t sliding_window = 0;  // Mistral: attention span; 0 = none
  float rms_norm_eps = 1e-6f;
  double rope_theta = 10000.0;
  bool attention_bias = false;
  bool mlp_bias = false;
  bool tie_word_embeddings = false;
  std::string hidden_act = "silu";  // an ACT2FN name; the model layer maps it
  std::vector<int64_t> eos_token_ids = {2};
};

struct VisionConfig {
  int64_t hidden_size = 768;
  int64_t intermediate_size = 3072;
  int64_t num_layers = 12;
  int64_t num_heads = 12;
  int64_t num_channels = 3;
  int64_t image_size = 224;
  int64_t patch_size = 32;
  float layer_norm_eps = 1e-5f;
  std::string hidden_act = "quick_gelu";

  int64_t grid() const { return image_size / patch_size; }          // patches per side
  int64_t positions() const { return grid() * grid() + 1; }          // + the class token
  int64_t patch_dim() const { return num_channels * patch_size * patch_size; }
  int64_t head_dim() const { return hidden_size / num_heads; }
};

struct Config {
  bool next = false;  // LLaVA-NeXT (anyres) rather than LLaVA-1.5
  TextConfig text;
  VisionConfig vision;
  bool has_vision = true;  // false: a GGUF text model without its mmproj
  int64_t image_token_id = 32000;
  std::string projector_act = "gelu";
  bool projector_bias = true;
  // vision_feature_layer: one layer or several (their features concatenated), as indexes
  // into the CLIP hidden states (0 = embeddings after pre_layrnorm, k = after layer k-1;
  // negative from the end).
  std::vector<int64_t> feature_layers = {-2};
  bool drop_cls = true;  // vision_feature_select_strategy "default" (else "full")
  std::vector<std::array<int64_t, 2>> image_grid_pinpoints;  // NeXT, (height, width)

  // feature_layers as hidden-state indexes 0 .. num_layers.
  std::vector<int64_t> feature_indexes() const;
  // Tokens one tile gives the projector: patches (+ the class token unless dropped).
  int64_t tile_tokens() const { return vision.grid() * vision.grid() + (drop_cls ? 0 : 1); }
  int64_t projector_in() const { return vision.hidden_size * static_cast<int64_t>(feature_layers.size()); }
};

// Parses a config.json document of LLaVA-1.5 or NeXT, identified as the registry does
// (model_type "llava" / "llava_next", else architectures' LlavaForConditionalGeneration /
// LlavaNextForConditionalGeneration: formats/model_family.h); `file` names it in errors.
// text_config without model_type is Llama's, vision_config without one CLIP's, as in
// transformers. Missing sizes take the defaults above; mistyped or inconsistent fields are
// Error(kCorrupt) naming the field; what kantu cannot run (another vision tower or text
// model, RoPE scaling) is Error(kUnsupported) saying which.
Config parse_config(const Json& doc, const std::string& file);

}  // namespace kantu::llava
