// A learned 2-D position table resampled to each image's patch grid (Qwen3-VL's
// fast_pos_embed_interpolate): bilinear with align_corners, in float32, repeated over the
// temporal patches and put in the processor's merge-window patch order.
#pragma once

#include <cstdint>
#include <vector>

#include "models/model.h"

namespace kantu::models::blocks {

// table: [side * side, dim] float32, row = r * side + c. Returns [n_patches, dim].
std::vector<float> interpolate_pos_embed(const std::vector<float>& table, int64_t side,
                                         int64_t dim, int64_t merge,
                                         const std::vector<GridTHW>& grids);

// torch.linspace(start, end, steps) in float32, bit-exact with PyTorch's CPU kernel.
std::vector<float> torch_linspace(float start, float end, int64_t steps);

}  // namespace kantu::models::blocks
