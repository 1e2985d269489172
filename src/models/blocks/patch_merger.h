// The Qwen-VL patch merger: each merge unit of consecutive patch rows (a 2x2 block in the
// processor's order) becomes one token for the language model:
//   norm (per patch before grouping, or over the grouped row after) -> fc1 -> GELU (erf)
//   -> fc2.
// Qwen2-VL uses LayerNorm, Qwen2.5-VL RMSNorm, Qwen3-VL LayerNorm (and post-shuffle
// LayerNorm in its DeepStack mergers).
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "models/blocks/linear.h"
#include "models/blocks/norm.h"

namespace kantu::models::blocks {

struct MergerSpec {
  int64_t hidden = 0;      // per patch
  int64_t merge_unit = 4;  // patches per token
  int64_t out = 0;         // token width
  NormKind norm = NormKind::kLayer;
  float norm_eps = 1e-6f;
  bool postshuffle_norm = false;  // norm over the grouped [hidden * merge_unit] row
  int64_t merged() const { return hidden * merge_unit; }
};

struct MergerWeights {
  Norm norm;   // [hidden] or, post-shuffle, [hidden * merge_unit]
  Linear fc1;  // [merged, merged]
  Linear fc2;  // [out, merged]
};

// h [n_patches, hidden] -> [n_patches / merge_unit, out].
std::vector<float> patch_merge(const MergerSpec& spec, const MergerWeights& w, const float* h,
                               int64_t n_patches, ThreadPool* pool);

}  // namespace kantu::models::blocks
