// Position machinery of Qwen3-VL: the 3-D M-RoPE position ids of a prompt (HF
// get_rope_index), the interleaved M-RoPE angle table, the vision tower's 2-D rotary
// angles, and the bilinear interpolation of the learned vision position table.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "models/model.h"
#include "models/qwen3vl/config.h"

namespace kantu::models::qwen3vl {

// 3-D positions for `ids` appended after a sequence whose next text position is
// `start_pos`. `grids` are the visual items (images, or videos) in order of appearance;
// a video item with t > 1 counts as t items with t = 1 (as get_rope_index does). Each
// run of image/video pad tokens must hold exactly the tokens of the next item
// (t*h*w / merge^2), else Error(kInvalidArgument) naming the counts.
struct PositionIds {
  std::vector<int64_t> t, h, w;  // [n] each
  int64_t next_pos = 0;          // next text position after these ids
  std::vector<int64_t> visual_rows;  // prompt indexes of the visual pad tokens, in order
};
PositionIds rope_index(std::span<const int32_t> ids, const std::vector<GridTHW>& grids,
                       int64_t start_pos, const Config& config);

// Interleaved M-RoPE: inv_freq[k] = 1 / theta^(2k / head_dim) (float32), k < head_dim / 2.
std::vector<float> text_inv_freq(const TextConfig& text);
// cos/sin [head_dim / 2] for one token at (t, h, w): frequency k uses the H angle for
// k % 3 == 1 and k < 3*section[1], the W angle for k % 3 == 2 and k < 3*section[2],
// else the T angle.
void mrope_cos_sin(const std::vector<float>& inv_freq, const std::array<int64_t, 3>& section,
                   int64_t t, int64_t h, int64_t w, float* cos, float* sin);

// Vision 2-D rope angles [n_patches, head_dim / 2] in merge-window order: per patch
// (row * inv_freq[0..d/4), col * inv_freq[0..d/4)) with inv_freq[k] = 10000^(-2k / (d/2)).
std::vector<float> vision_rope_angles(const VisionConfig& vision, const std::vector<GridTHW>& grids);

// The learned position table interpolated to each grid (align_corners bilinear, float32),
// repeated over t and reordered to merge-window order: [n_patches, hidden].
std::vector<float> interpolate_pos_embed(const VisionConfig& vision, const std::vector<float>& table,
                                         const std::vector<GridTHW>& grids);

// torch.linspace(start, end, steps) in float32, bit-exact with PyTorch's CPU kernel.
std::vector<float> torch_linspace(float start, float end, int64_t steps);

}  // namespace kantu::models::qwen3vl
