// Qwen3-VL video preprocessing over already-decoded frames (video_processing_qwen3_vl.py
// and processing_qwen3_vl.py in transformers 4.57; qwen3vl-architecture.md §2.2):
//   - frame sampling: n = int(total / video_fps * fps), clamped to
//     min(max(n, min_frames), max_frames, total); indices = round(linspace(0, total-1, n))
//     with numpy's half-to-even round;
//   - one smart_resize for every frame (video budget, temporal factor 2);
//   - the same resize, normalisation and patch layout as images, grid_t = n / 2 after
//     repeating the last frame to an even count;
//   - per temporal patch: the token count and the "<t.t seconds>" timestamp text the
//     prompt builder puts before its <|vision_start|>.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/preprocess.h"

namespace kantu {

struct VideoPreprocessConfig {
  ImagePreprocessConfig frames = [] {
    ImagePreprocessConfig c;
    c.min_pixels = 4096;      // size.shortest_edge of video_preprocessor_config.json
    c.max_pixels = 25165824;  // size.longest_edge (a budget over all frames)
    return c;
  }();
  double fps = 2.0;  // frames sampled per second of video
  int64_t min_frames = 4;
  int64_t max_frames = 768;
};

// Which of total_frames to keep. video_fps <= 0 means unknown (the reference assumes 24).
std::vector<int64_t> sample_video_frames(int64_t total_frames, double video_fps,
                                         const VideoPreprocessConfig& config);

// The video smart_resize: the budget covers round(num_frames / temporal_factor) *
// temporal_factor frames; sides below `factor` are first scaled up.
ResizedSize smart_resize_video(int64_t num_frames, int64_t height, int64_t width,
                               int64_t temporal_factor, int64_t factor, int64_t min_pixels,
                               int64_t max_pixels);

// Seconds of each temporal patch: the mean time of its first and last frame, after the
// index list is padded to a multiple of temporal_patch_size with its last index.
std::vector<double> video_timestamps(const std::vector<int64_t>& frame_indices, double video_fps,
                                     int temporal_patch_size);
// "<1.5 seconds>" (Python's f"<{t:.1f} seconds>").
std::string video_timestamp_text(double seconds);

struct PreprocessedVideo {
  std::vector<float> pixel_values;  // [grid.num_patches(), patch_dim], row-major
  PatchGrid grid;                   // t = number of temporal patches
  int64_t tokens_per_temporal_patch = 0;  // grid.h * grid.w / merge_size^2
  std::vector<std::string> timestamps;    // [grid.t], e.g. "<0.3 seconds>"
  int resized_height = 0, resized_width = 0;
};

// frames: the sampled frames (all the same size) and frame_indices their positions in the
// source video (same length), video_fps the source rate (<= 0: assume 24).
PreprocessedVideo preprocess_video(const std::vector<RgbImage>& frames,
                                   const std::vector<int64_t>& frame_indices, double video_fps,
                                   const VideoPreprocessConfig& config, ThreadPool* pool = nullptr);

}  // namespace kantu
