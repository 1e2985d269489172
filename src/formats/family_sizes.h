// The sizes `kantu info` reports from a config.json (text model, vision tower), and each
// family's readers of them: every family lays its config out its own way (keys, class
// defaults), so the readers live with the family (formats/<family>_sizes.cpp) and the
// family registry (model_family.cpp) names them. model_summary.h reads a folder through them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

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

// One family's readers of its config.json (`path` names the file in errors: Error(kCorrupt)
// "<path>: text_config.hidden_size must be a positive integer" and the like).
struct FamilySizeReaders {
  TextSizes (*text)(const Json& config, const std::string& path);
  // Only for a model with vision (a GGUF text file without mmproj has no vision_config).
  VisionSizes (*vision)(const Json& config, const std::string& path);
};

// Each family's readers: the registry rows of model_family.cpp point at them.
extern const FamilySizeReaders kQwen3VLSizes;    // qwen_sizes.cpp
extern const FamilySizeReaders kQwen25VLSizes;   // qwen_sizes.cpp
extern const FamilySizeReaders kQwen2VLSizes;    // qwen_sizes.cpp
extern const FamilySizeReaders kLlavaSizes;      // llava_sizes.cpp: LLaVA-1.5 and LLaVA-NeXT

}  // namespace kantu
