// The Qwen3-VL vision tower: patch embedding, interpolated learned positions, 2-D rope
// ViT blocks with block-diagonal attention (one segment per image and temporal slice),
// the final patch merger and the DeepStack mergers.
#pragma once

#include <vector>

#include "core/thread_pool.h"
#include "models/model.h"
#include "models/qwen3vl/config.h"
#include "models/qwen3vl/weights.h"

namespace kantu::models::qwen3vl {

// Validates the inputs (non-null pixels, grids positive and divisible by the merge size,
// total patches within `max_patches`) and runs the tower. Named intermediates go to
// `dumps` (see model.h) when it is not null.
VisionOutput vision_forward(const Config& config, const VisionWeights& weights,
                            const std::vector<VisualInput>& images, ThreadPool* pool,
                            Dumps* dumps);

// The largest total patch count one encode call accepts (memory is O(N * hidden) plus
// attention scratch per image).
inline constexpr int64_t kMaxVisionPatches = 1 << 16;

}  // namespace kantu::models::qwen3vl
