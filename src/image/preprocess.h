// Qwen2/2.5/3-VL image preprocessing, exactly as the Hugging Face image processor
// (Qwen2VLImageProcessor[Fast]) does it:
//   1. smart_resize: the target (h, w) as multiples of patch*merge (32), with Python's
//      half-to-even round in float64 and the min/max pixel budget;
//   2. Pillow-exact antialiased bicubic resize to that size (image/resize.h);
//   3. rescale + normalise per channel, as the configured processor class does: fused as
//      the fast one (x = (u8 - mean*255) / (std*255) in float32), or in two steps as the
//      slow one (x = float32(u8 * rescale in float64), then (x - mean) / std in float32);
//      the two agree to 1 ulp;
//   4. the frame repeated to temporal_patch_size (2) frames, then patchify into rows of
//      C*T*P*P = 3*2*16*16 = 1536 values in merge-window order (see patchify());
//   5. grid (t, h, w) in patches, and N/merge^2 image tokens.
// The same entry points run the CLIP-style processors of LLaVA (image/clip_preprocess.h)
// when the config says so (ImageProcessorKind), so the layers above preprocess any family
// through preprocess_image() and image_token_count().
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "formats/clip_preprocessor_config.h"
#include "image/anyres.h"
#include "image/image.h"

namespace kantu {

class ThreadPool;
struct PreprocessorConfig;

enum class ImageProcessorKind {
  kQwenPatches,  // Qwen2VLImageProcessor: smart_resize + merge-window patches (above)
  kClip,         // CLIPImageProcessor (LLaVA-1.5): one square tile
  kLlavaNext,    // LlavaNextImageProcessor: the base tile + the anyres canvas's tiles
};

// The preprocessor_config.json values that matter (defaults: Qwen3-VL).
struct ImagePreprocessConfig {
  ImageProcessorKind kind = ImageProcessorKind::kQwenPatches;
  // kClip / kLlavaNext: the processor's settings and its image-token rules (tile size,
  // vision patch size, the CLS token and whether the features drop it).
  ClipPreprocessorConfig clip;
  AnyresGeometry tokens;
  int64_t min_pixels = 65536;     // size.shortest_edge
  int64_t max_pixels = 16777216;  // size.longest_edge
  int patch_size = 16;
  int merge_size = 2;
  int temporal_patch_size = 2;
  std::array<double, 3> image_mean{0.5, 0.5, 0.5};
  std::array<double, 3> image_std{0.5, 0.5, 0.5};
  double rescale_factor = 1.0 / 255.0;
  // The fast processor's fused rescale + normalise (image_processor_type "...Fast"), or
  // the slow processor's two steps (e.g. "Qwen2VLImageProcessor").
  bool fused_normalize = true;

  int factor() const { return patch_size * merge_size; }
  int patch_dim() const { return 3 * temporal_patch_size * patch_size * patch_size; }
};

// From a model folder's typed preprocessor_config.json (formats/preprocessor_config.h).
ImagePreprocessConfig image_preprocess_config(const PreprocessorConfig& config);
// Throws Error(kInvalidArgument) for sizes or statistics the pipeline cannot use.
void validate(const ImagePreprocessConfig& config);

struct ResizedSize {
  int64_t height = 0;
  int64_t width = 0;
};

// Python's round(): nearest integer, ties to even.
double round_half_even(double x);

// The HF image smart_resize. Throws Error(kInvalidArgument) for a zero side or an aspect
// ratio above 200. Like transformers v5, a side never comes out below `factor` (4.57
// would return 0 there and fail later); otherwise identical to 4.57.
ResizedSize smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                         int64_t max_pixels);

struct PatchGrid {
  int64_t t = 0, h = 0, w = 0;  // in patches
  int64_t num_patches() const { return t * h * w; }
};

struct PreprocessedImage {
  // Qwen: [grid.num_patches(), patch_dim], row-major. CLIP/NeXT: the tiles [t, 3, S, S]
  // with grid = (tiles, S / patch, S / patch).
  std::vector<float> pixel_values;
  PatchGrid grid;
  int64_t num_tokens = 0;  // the image's tokens in the prompt (Qwen: patches / merge^2)
  RgbImage resized;        // the image after the resize, [h, w, 3] (CLIP/NeXT: tile 0)
  // pixel_values' shape as the reference processor returns it for this one image:
  // [patches, patch_dim] (Qwen), [1, 3, S, S] (CLIP), [1, tiles, 3, S, S] (NeXT).
  std::vector<int64_t> shape;
  int64_t image_height = 0, image_width = 0;  // the input image (NeXT's image_sizes)
};

// Per-channel lookup table u8 -> normalised float for config (fused fast-processor form).
std::array<std::array<float, 256>, 3> normalize_table(const ImagePreprocessConfig& config);

// Patchifies frames (all the same size, a multiple of factor() on both sides; their count
// a multiple of temporal_patch_size) into `out` ([t*h*w patches, patch_dim]).
// Row order: temporal patch, merge-block row, merge-block column, row in block, column in
// block; values inside a row: [channel][frame in temporal patch][py][px].
void patchify(const std::vector<const RgbImage*>& frames, const ImagePreprocessConfig& config,
              float* out, ThreadPool* pool = nullptr);

// The visual tokens an image of height x width takes (Qwen: smart_resize, then patches /
// merge^2; CLIP: the tile's patches; NeXT: image/anyres.h).
int64_t image_token_count(int64_t height, int64_t width, const ImagePreprocessConfig& config);
// The grid preprocess_image() gives an image of height x width, without its pixels (a
// prompt's positions depend on it when its tokens come from a prefix cache).
PatchGrid image_grid(int64_t height, int64_t width, const ImagePreprocessConfig& config);

// The full image pipeline. pool may be null.
PreprocessedImage preprocess_image(const RgbImage& image, const ImagePreprocessConfig& config,
                                   ThreadPool* pool = nullptr);

}  // namespace kantu
