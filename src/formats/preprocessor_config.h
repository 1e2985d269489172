// preprocessor_config.json (images) and video_preprocessor_config.json, typed. Defaults
// are the Qwen3-VL values (qwen3vl-architecture.md §1.2, §1.3) plus the processor's
// implicit ones (bicubic resample, rescale 1/255, every do_* on).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/json.h"

namespace kantu {

class JsonFields;

struct PreprocessorConfig {
  bool present = false;             // the file existed
  int64_t min_pixels = 65536;       // size.shortest_edge, or min_pixels (which wins)
  int64_t max_pixels = 16777216;    // size.longest_edge, or max_pixels (which wins)
  int64_t patch_size = 16;          // pixels per patch side
  int64_t temporal_patch_size = 2;  // frames per patch (an image is repeated to fill it)
  int64_t merge_size = 2;           // patches per merged token side
  std::array<float, 3> image_mean = {0.5f, 0.5f, 0.5f};  // RGB
  std::array<float, 3> image_std = {0.5f, 0.5f, 0.5f};   // RGB, all > 0
  double rescale_factor = 1.0 / 255.0;
  bool do_resize = true;
  bool do_rescale = true;
  bool do_normalize = true;
  bool do_convert_rgb = true;
  int64_t resample = 3;  // PIL enum: 3 = BICUBIC
  std::string image_processor_type;
};

struct VideoPreprocessorConfig {
  PreprocessorConfig frames;  // per-frame settings; defaults min 4096, max 25165824 pixels
  double fps = 2.0;           // frames sampled per second
  int64_t min_frames = 4;
  int64_t max_frames = 768;
  bool do_sample_frames = true;
};

// image_mean / image_std: a list of 3 numbers, or one number for all channels (all > 0
// when `positive`); the fallback when absent.
std::array<float, 3> channel_values(const JsonFields& f, const std::string& key,
                                    std::array<float, 3> fallback, bool positive);

// Parse already-read files; `file` names them in errors. Absent keys keep the values of
// `defaults` (a family's processor class defaults; the plain overload: Qwen3-VL's).
PreprocessorConfig parse_preprocessor_config(const Json& json, const std::string& file,
                                             const PreprocessorConfig& defaults);
PreprocessorConfig parse_preprocessor_config(const Json& json, const std::string& file);
VideoPreprocessorConfig parse_video_preprocessor_config(const Json& json, const std::string& file);

// The folder's configs, or the defaults when the file is absent.
PreprocessorConfig load_preprocessor_config(const std::string& dir);
VideoPreprocessorConfig load_video_preprocessor_config(const std::string& dir);

}  // namespace kantu
