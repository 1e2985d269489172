#include "models/llava/anyres_pack.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::models::llava {

std::vector<float> pack_anyres(const float* features, int64_t tiles, const PackShape& s,
                               HeightWidth image, Pinpoints pinpoints, const float* newline) {
  const int64_t G = s.grid, H = s.hidden, tile_rows = G * G;
  std::vector<float> out;
  if (tiles < 1) fail(ErrorKind::kInvalidArgument, "pack: no tiles");
  if (tiles == 1) {
    out.assign(features, features + tile_rows * H);
    if (newline) out.insert(out.end(), newline, newline + H);
    return out;
  }
  // get_anyres_image_grid_shape: the canvas in tiles.
  const HeightWidth canvas = select_best_resolution(image, pinpoints);
  const int64_t canvas_rows = canvas.height / s.tile_size, canvas_cols = canvas.width / s.tile_size;
  if (canvas_rows * canvas_cols != tiles - 1) {
    fail(ErrorKind::kInvalidArgument, "image of ", image.height, "x", image.width, ": ", tiles - 1,
         " tiles given, but its ", canvas.height, "x", canvas.width, " canvas has ",
         canvas_rows * canvas_cols);
  }
  const UnpaddedGrid keep = unpadded_grid(image, canvas_rows * G, canvas_cols * G);
  const int64_t row_width = keep.cols + (newline ? 1 : 0);
  out.resize(static_cast<size_t>((tile_rows + keep.rows * row_width) * H));
  std::copy_n(features, tile_rows * H, out.data());  // the base tile first
  float* dst = out.data() + tile_rows * H;
  for (int64_t r = keep.top; r < keep.top + keep.rows; ++r) {
    for (int64_t c = keep.left; c < keep.left + keep.cols; ++c) {
      const int64_t tile = 1 + (r / G) * canvas_cols + c / G;
      const float* src = features + (tile * tile_rows + (r % G) * G + c % G) * H;
      dst = std::copy_n(src, H, dst);
    }
    if (newline) dst = std::copy_n(newline, H, dst);
  }
  return out;
}

}  // namespace kantu::models::llava
