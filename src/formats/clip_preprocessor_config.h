// preprocessor_config.json of the CLIP-style image processors, typed: CLIPImageProcessor
// (LLaVA-1.5) and LlavaNextImageProcessor (LLaVA-NeXT's anyres). Absent keys take the
// transformers 4.57 class defaults (OpenAI CLIP mean/std, 224 px, bicubic, and for NeXT
// its five pinpoints).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu {

struct ClipPreprocessorConfig {
  bool present = false;
  std::string image_processor_type;  // "CLIPImageProcessor", "LlavaNextImageProcessor", ...
  // size: {"shortest_edge": n} (aspect kept), or {"height": h, "width": w} (squashed).
  int64_t shortest_edge = 224;
  int64_t size_height = 0, size_width = 0;  // 0: the shortest_edge form
  int64_t crop_height = 224, crop_width = 224;
  bool do_resize = true;
  bool do_center_crop = true;
  bool do_rescale = true;
  bool do_normalize = true;
  bool do_convert_rgb = true;
  bool do_pad = true;  // NeXT: images with fewer tiles padded with zero tiles in a batch
  double rescale_factor = 1.0 / 255.0;
  std::array<float, 3> image_mean = {0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> image_std = {0.26862954f, 0.26130258f, 0.27577711f};
  int64_t resample = 3;  // PIL enum: 3 = BICUBIC, the only one kantu resamples with
  // NeXT: the canvases tiles are cut from, (height, width) each.
  std::vector<std::array<int64_t, 2>> image_grid_pinpoints;

  bool anyres() const { return !image_grid_pinpoints.empty(); }
  // The square (or height x width) size the NeXT base image is squashed to.
  int64_t base_height() const { return size_height > 0 ? size_height : shortest_edge; }
  int64_t base_width() const { return size_width > 0 ? size_width : shortest_edge; }
};

class JsonFields;

// image_grid_pinpoints, which config.json (LlavaNextConfig) and preprocessor_config.json
// (LlavaNextImageProcessor) both carry in one form: a non-empty list of [height, width]
// pairs of positive integers (at most 16384 each, 1024 pairs); the five 336-px canvases
// both classes default to when the key is absent. Error(kCorrupt) naming the key otherwise.
std::vector<std::array<int64_t, 2>> parse_image_grid_pinpoints(const JsonFields& f);

// `file` names the file in errors; anyres: the processor is LlavaNextImageProcessor (its
// default pinpoints apply when the file has none).
ClipPreprocessorConfig parse_clip_preprocessor_config(const Json& json, const std::string& file,
                                                      bool anyres);
// The folder's preprocessor_config.json, or the class defaults when absent.
ClipPreprocessorConfig load_clip_preprocessor_config(const std::string& dir, bool anyres);

}  // namespace kantu
