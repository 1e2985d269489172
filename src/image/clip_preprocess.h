// The CLIP-style image processors of transformers 4.57 (the slow, Pillow-based ones that
// the llava-hf checkpoints name), exactly:
//   CLIPImageProcessor (LLaVA-1.5): resize so the shortest edge is `shortest_edge`
//     (the other side int()-truncated) with Pillow's bicubic, centre crop (zero-padded when
//     the crop is larger), rescale + normalise;
//   LlavaNextImageProcessor (LLaVA-NeXT): tile 0 is the whole image squashed to the base
//     size; then the image resized with its aspect ratio onto the best pinpoint canvas
//     (image/anyres.h), zero-padded to the centre and cut into tiles row by row; every tile
//     then goes through the CLIP steps above.
// Normalisation is bit-exact with the reference: x = float32(float64(u8) * rescale_factor),
// then (x - float32(mean)) / float32(std) in float32, channels first.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "image/anyres.h"
#include "image/image.h"
#include "image/preprocess.h"

namespace kantu {

class ThreadPool;
struct ClipPreprocessorConfig;

struct ClipPixelValues {
  std::vector<float> data;  // pixel_values of one image: [tiles, 3, height, width]
  int64_t tiles = 0, height = 0, width = 0;
  HeightWidth image_size;         // the input image (image_sizes), height x width
  HeightWidth best_resolution;    // NeXT: the pinpoint canvas; {0, 0} for CLIP
  HeightWidth resized_for_tiles;  // NeXT: the aspect-preserving size on the canvas
  std::vector<RgbImage> tiles_u8;  // the tiles before rescale and normalisation
};

// CLIPImageProcessor: one tile. pool may be null.
ClipPixelValues clip_preprocess(const RgbImage& image, const ClipPreprocessorConfig& config,
                                ThreadPool* pool = nullptr);
// LlavaNextImageProcessor: 1 + the canvas's tiles. config must have pinpoints.
ClipPixelValues llava_next_preprocess(const RgbImage& image, const ClipPreprocessorConfig& config,
                                      ThreadPool* pool = nullptr);

// get_resize_output_image_size(default_to_square=False): the shortest edge becomes
// `shortest_edge`, the longest int(shortest_edge * long / short).
HeightWidth shortest_edge_size(HeightWidth image, int64_t shortest_edge);

// transformers' center_crop: the centre (floor division) crop, zero-padded where the crop
// is larger than the image.
RgbImage center_crop(const RgbImage& image, int64_t height, int64_t width);

// preprocess_image() and image_token_count() for the kClip / kLlavaNext kinds: the tiles as
// pixel_values, grid (tiles, S / patch, S / patch), and the processor's token count.
PreprocessedImage clip_preprocess_image(const RgbImage& image, const ImagePreprocessConfig& config,
                                        ThreadPool* pool);
int64_t clip_image_tokens(HeightWidth image, const ImagePreprocessConfig& config);
PatchGrid clip_image_grid(HeightWidth image, const ImagePreprocessConfig& config);

// Per channel, u8 -> the normalised float32 value (the reference's rescale and normalise).
std::array<std::array<float, 256>, 3> clip_normalize_table(const ClipPreprocessorConfig& config);

}  // namespace kantu
