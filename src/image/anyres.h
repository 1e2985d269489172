// LLaVA-NeXT's "anyres" geometry, computed exactly as transformers 4.57 does (image
// processor, processor and model share it here, so the token count the prompt gets and the
// features the model packs can never disagree):
//   - the pinpoint (canvas) an image is tiled on: the one that keeps the largest part of the
//     image's area after an aspect-preserving fit, then the one that wastes least canvas;
//     the first in the list on a tie (so a small image, whose whole area every pinpoint
//     keeps, goes to the first least-wasteful one, even when it is portrait);
//   - the aspect-preserving size of the image on that canvas (centred, zero-padded);
//   - how the padding is cut back off a grid of features (unpad_image), with Python's
//     round(x, 7) and floor division;
//   - the number of image tokens: base tile + the unpadded grid + one newline per row.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace kantu {

struct HeightWidth {
  int64_t height = 0;
  int64_t width = 0;
  bool operator==(const HeightWidth&) const = default;
};

using Pinpoints = std::span<const std::array<int64_t, 2>>;  // (height, width) each

// select_best_resolution. Throws Error(kInvalidArgument) for an empty list or image.
HeightWidth select_best_resolution(HeightWidth image, Pinpoints pinpoints);

// get_patch_output_size: the image fitted into target with its aspect ratio (the side
// that limits is the target's, the other rounded up and clipped to the target).
HeightWidth patch_output_size(HeightWidth image, HeightWidth target);

// image_size_to_num_patches: tiles of tile_size cut from the best canvas, plus the base.
int64_t anyres_tile_count(HeightWidth image, Pinpoints pinpoints, int64_t tile_size);

// The rows and columns unpad_image keeps of a current_height x current_width feature grid
// made from an image of `original` size.
struct UnpaddedGrid {
  int64_t top = 0, rows = 0;   // rows [top, top + rows)
  int64_t left = 0, cols = 0;  // columns [left, left + cols)
};
UnpaddedGrid unpadded_grid(HeightWidth original, int64_t current_height, int64_t current_width);

// LlavaNextProcessor's image token count for one image: the base tile's patches, the
// unpadded grid of the chosen canvas and a newline per grid row. With the "default"
// feature strategy the CLS token is not counted (num_additional_image_tokens then cancels).
struct AnyresGeometry {
  int64_t tile_size = 336;   // crop size: the side of every tile
  int64_t patch_size = 14;   // vision patch side
  int64_t additional_tokens = 1;  // processor_config num_additional_image_tokens (CLS)
  bool drop_cls = true;      // vision_feature_select_strategy == "default"
};
int64_t anyres_image_tokens(HeightWidth image, Pinpoints pinpoints, const AnyresGeometry& g);

// Python's round(x, 7) (correctly rounded, ties to even on the exact binary value).
double python_round7(double x);

}  // namespace kantu
