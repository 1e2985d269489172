// LLaVA-NeXT's pack_image_features for one image: the projected features of its tiles
// ([tiles, grid*grid, hidden]; tile 0 the squashed base image, tiles 1.. the canvas cut row
// by row) become
//   the base tile's grid*grid rows, then the canvas re-assembled as one feature grid of
//   (canvas rows * grid) x (canvas cols * grid), unpadded to the image's aspect ratio
//   (image/anyres.h, as unpad_image) and read row by row with `newline` after every row.
// A single tile gives its rows followed by one newline (the reference's other branch).
#pragma once

#include <cstdint>
#include <vector>

#include "image/anyres.h"

namespace kantu::models::llava {

struct PackShape {
  int64_t grid = 0;        // patches per tile side (image_size / patch_size)
  int64_t hidden = 0;      // feature width (the text model's hidden size)
  int64_t tile_size = 0;   // vision image_size: the canvas is cut in tiles of this side
};

// features: [tiles, grid*grid, hidden]; newline: [hidden] (or null: none). Error
// (kInvalidArgument) when the tile count does not match the image's canvas.
std::vector<float> pack_anyres(const float* features, int64_t tiles, const PackShape& shape,
                               HeightWidth image, Pinpoints pinpoints, const float* newline);

}  // namespace kantu::models::llava
