// What `kantu info` reports about a model folder: the family's sizes read from
// config.json (validated, errors name the field) and statistics of the weights.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "formats/family_sizes.h"
#include "formats/model_folder.h"

namespace kantu {

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

// The family's text and vision sizes from config.json, read by the family's own readers
// (formats/family_sizes.h). Error(kNotFound/kCorrupt) "<config path>:
// text_config.hidden_size must be a positive integer" and the like. No vision sizes for a
// model without vision (a GGUF text file without its mmproj).
TextSizes read_text_sizes(const ModelFolder& model);
std::optional<VisionSizes> read_vision_sizes(const ModelFolder& model);

WeightStats weight_stats(const WeightStore& weights);

}  // namespace kantu
