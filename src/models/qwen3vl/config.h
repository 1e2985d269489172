// Qwen3-VL configuration, parsed from a Hugging Face config.json. Every size comes from the
// file (the class defaults of transformers are 8B-like and must never be assumed).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/blocks/mlp.h"

namespace kantu {
class ModelFolder;
}  // namespace kantu

namespace kantu::models::qwen3vl {

using blocks::Activation;

struct TextConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // q_proj out = num_heads * head_dim (may differ from hidden_size)
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 0;
  // (T, H, W) frequency counts. Interleaved M-RoPE reads only H and W (slices that
  // clip at head_dim / 2); T takes every other frequency.
  std::array<int64_t, 3> mrope_section{};
  bool attention_bias = false;
  Activation hidden_act = Activation::kSilu;
  int64_t bos_token_id = -1;
};

struct VisionConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t depth = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_heads
  int64_t in_channels = 0;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 0;
  int64_t spatial_merge_size = 0;
  int64_t out_hidden_size = 0;
  int64_t num_position_embeddings = 0;
  int64_t pos_grid_side = 0;  // sqrt(num_position_embeddings)
  std::vector<int64_t> deepstack_visual_indexes;  // vision block indexes, 0-based
  Activation hidden_act = Activation::kGeluTanh;
  float layer_norm_eps = 1e-6f;  // hard-coded in transformers

  int64_t patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
  int64_t merge_unit() const { return spatial_merge_size * spatial_merge_size; }
  int64_t merged_dim() const { return hidden_size * merge_unit(); }
};

struct Config {
  TextConfig text;
  VisionConfig vision;
  // False for a text-only model (a GGUF text file without its mmproj): no vision_config,
  // no vision tensors, and images are refused.
  bool has_vision = true;
  bool tie_word_embeddings = false;
  int64_t image_token_id = 0;
  int64_t video_token_id = 0;
  int64_t vision_start_token_id = 0;
  int64_t vision_end_token_id = 0;
};

// Parses a config.json document; `what` names the file in errors. Missing or mistyped
// fields are Error(kCorrupt) naming the field; unknown model types / activations are
// Error(kUnsupported); inconsistent sizes are Error(kCorrupt).
Config parse_config(const Json& doc, const std::string& what);

// The config of an opened model (a folder or a GGUF pair): parse_config on its config Json.
// (Stop ids are the model's: models/family.h eos_ids_of.)
Config config_of(const ModelFolder& model);
// config_of the folder, opened without its weights.
Config load_config(const std::string& folder);

}  // namespace kantu::models::qwen3vl
