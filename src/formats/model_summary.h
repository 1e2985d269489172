// What `kantu info` reports about a model folder: the family's sizes read from
// config.json (validated, errors name the field) and statistics of the weights.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/model_folder.h"

namespace kantu {

struct TextSizes {
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // config head_dim, or hidden_size / num_heads when absent
  int64_t intermediate_size = 0;
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;  // 0 when absent
  bool tie_word_embeddings = false;
};

struct VisionSizes {
  int64_t depth = 0;
  int64_t hidden_size = 0;
  int64_t num_heads = 0;
  int64_t intermediate_size = 0;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 0;
  int64_t spatial_merge_size = 0;
  int64_t out_hidden_size = 0;  // after the merger = text hidden size
  int64_t num_position_embeddings = 0;
  std::vector<int64_t> deepstack_visual_indexes;  // vision blocks feeding DeepStack
  int64_t window_size = 0;                     // Qwen2.5-VL window attention (pixels), 0: none
  std::vector<int64_t> fullatt_block_indexes;  // Qwen2.5-VL blocks with full attention
};

struct DTypeStats {
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t bytes = 0;
};

struct WeightFileStats {
  std::string path;
  uint64_t file_bytes = 0;
  int64_t tensors = 0;
};

struct WeightStats {
  int64_t tensor_count = 0;
  int64_t parameter_count = 0;
  uint64_t total_bytes = 0;                   // tensor data bytes
  std::map<std::string, DTypeStats> dtypes;   // by safetensors dtype name
  std::vector<WeightFileStats> files;
};

// The family's text and vision sizes from config.json. Error(kNotFound/kCorrupt)
// "<config path>: text_config.hidden_size must be a positive integer" and the like.
TextSizes read_text_sizes(const ModelFolder& model);
std::optional<VisionSizes> read_vision_sizes(const ModelFolder& model);

WeightStats weight_stats(const WeightStore& weights);

}  // namespace kantu
