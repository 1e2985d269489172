// Qwen2.5-VL's window attention layout (transformers get_window_index): the merged-token
// grid of each image is cut into windows of `window` x `window` merged tokens (padding the
// grid up to whole windows, so a side that is an exact multiple gets a whole empty row or
// column of windows, which then hold nothing), and tokens are reordered window by window,
// row-major inside a window; the patches of a merged token stay together.
#pragma once

#include <cstdint>
#include <vector>

#include "models/blocks/encoder_block.h"
#include "models/model.h"

namespace kantu::models::blocks {

struct WindowPlan {
  // Window order of merged tokens: position i holds natural merged token window_index[i].
  std::vector<int64_t> window_index;
  // The windows in patch rows of the window order (first row, rows); empty windows kept.
  std::vector<Segment> windows;
};

WindowPlan window_plan(const std::vector<GridTHW>& grids, int64_t merge, int64_t window);

// Reorders rows in groups of `unit` consecutive rows: out group i = in group index[i]
// (inverse = false), or out group index[i] = in group i (inverse = true). data [groups*unit, width].
void permute_groups(std::vector<float>& data, const std::vector<int64_t>& index, int64_t unit,
                    int64_t width, bool inverse);

}  // namespace kantu::models::blocks
