#include "image/video.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "image/resize.h"

namespace kantu {
namespace {

constexpr double kDefaultVideoFps = 24.0;  // what the reference assumes without metadata

}  // namespace

std::vector<int64_t> sample_video_frames(int64_t total_frames, double video_fps,
                                         const VideoPreprocessConfig& config) {
  if (total_frames <= 0) fail(ErrorKind::kInvalidArgument, "video: no frames");
  if (!(config.fps > 0) || config.min_frames < 1 || config.max_frames < config.min_frames)
    fail(ErrorKind::kInvalidArgument, "video: bad sampling settings (fps ", config.fps,
         ", frames ", config.min_frames, "..", config.max_frames, ")");
  if (!(video_fps > 0) || !std::isfinite(video_fps)) video_fps = kDefaultVideoFps;
  int64_t n = static_cast<int64_t>(static_cast<double>(total_frames) / video_fps * config.fps);
  n = std::min({std::max(n, config.min_frames), config.max_frames, total_frames});
  std::vector<int64_t> indices(n);
  // numpy.linspace: i * step + start, the last value set to stop exactly.
  const double step = n > 1 ? static_cast<double>(total_frames - 1) / static_cast<double>(n - 1) : 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = i == n - 1 && n > 1 ? static_cast<double>(total_frames - 1) : i * step;
    indices[i] = static_cast<int64_t>(round_half_even(v));
  }
  return indices;
}

ResizedSize smart_resize_video(int64_t num_frames, int64_t height, int64_t width,
                               int64_t temporal_factor, int64_t factor, int64_t min_pixels,
                               int64_t max_pixels) {
  if (num_frames < temporal_factor)
    fail(ErrorKind::kInvalidArgument, "video smart_resize: ", num_frames,
         " frames is fewer than the temporal factor ", temporal_factor);
  if (height <= 0 || width <= 0 || factor <= 0)
    fail(ErrorKind::kInvalidArgument, "video smart_resize: bad size ", height, "x", width);
  double h = static_cast<double>(height), w = static_cast<double>(width);
  const double f = static_cast<double>(factor);
  if (h < f || w < f) {
    const double scale = std::max(f / h, f / w);
    h = std::floor(h * scale);
    w = std::floor(w * scale);
  }
  if (std::max(h, w) / std::min(h, w) > 200.0)
    fail(ErrorKind::kInvalidArgument, "video smart_resize: absolute aspect ratio must be smaller "
         "than 200, got ", std::max(h, w) / std::min(h, w));
  double h_bar = round_half_even(h / f) * f;
  double w_bar = round_half_even(w / f) * f;
  const double t_bar = round_half_even(static_cast<double>(num_frames) / temporal_factor) * temporal_factor;
  const double n = static_cast<double>(num_frames);
  if (t_bar * h_bar * w_bar > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt((n * h * w) / static_cast<double>(max_pixels));
    h_bar = std::max(f, std::floor(h / beta / f) * f);
    w_bar = std::max(f, std::floor(w / beta / f) * f);
  } else if (t_bar * h_bar * w_bar < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (n * h * w));
    h_bar = std::ceil(h * beta / f) * f;
    w_bar = std::ceil(w * beta / f) * f;
  }
  return {std::max<int64_t>(factor, static_cast<int64_t>(h_bar)),
          std::max<int64_t>(factor, static_cast<int64_t>(w_bar))};
}

std::vector<double> video_timestamps(const std::vector<int64_t>& frame_indices, double video_fps,
                                     int temporal_patch_size) {
  if (frame_indices.empty() || temporal_patch_size < 1) return {};
  if (!(video_fps > 0) || !std::isfinite(video_fps)) video_fps = kDefaultVideoFps;
  std::vector<int64_t> idx = frame_indices;
  while (idx.size() % temporal_patch_size != 0) idx.push_back(idx.back());
  std::vector<double> out;
  for (size_t i = 0; i < idx.size(); i += temporal_patch_size) {
    const double first = static_cast<double>(idx[i]) / video_fps;
    const double last = static_cast<double>(idx[i + temporal_patch_size - 1]) / video_fps;
    out.push_back((first + last) / 2);
  }
  return out;
}

std::string video_timestamp_text(double seconds) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "<%.1f seconds>", seconds);
  return buf;
}

PreprocessedVideo preprocess_video(const std::vector<RgbImage>& frames,
                                   const std::vector<int64_t>& frame_indices, double video_fps,
                                   const VideoPreprocessConfig& config, ThreadPool* pool) {
  const ImagePreprocessConfig& c = config.frames;
  validate(c);
  if (frames.empty()) fail(ErrorKind::kInvalidArgument, "video: no frames");
  if (frame_indices.size() != frames.size())
    fail(ErrorKind::kInvalidArgument, "video: ", frames.size(), " frames but ",
         frame_indices.size(), " frame indices");
  for (const RgbImage& f : frames) {
    if (f.width != frames[0].width || f.height != frames[0].height || f.width <= 0)
      fail(ErrorKind::kInvalidArgument, "video: frames must be non-empty and the same size");
  }
  const int64_t n = static_cast<int64_t>(frames.size());
  // Fewer frames than the temporal factor: the reference pads before resizing.
  const ResizedSize size =
      smart_resize_video(std::max<int64_t>(n, c.temporal_patch_size), frames[0].height,
                         frames[0].width, c.temporal_patch_size, c.factor(), c.min_pixels,
                         c.max_pixels);
  PreprocessedVideo out;
  out.resized_height = static_cast<int>(size.height);
  out.resized_width = static_cast<int>(size.width);
  std::vector<RgbImage> resized;
  resized.reserve(frames.size());
  for (const RgbImage& f : frames)
    resized.push_back(resize_bicubic(f, out.resized_width, out.resized_height, pool));
  std::vector<const RgbImage*> ptrs;
  for (const RgbImage& r : resized) ptrs.push_back(&r);
  while (ptrs.size() % c.temporal_patch_size != 0) ptrs.push_back(ptrs.back());
  out.grid = {static_cast<int64_t>(ptrs.size()) / c.temporal_patch_size, size.height / c.patch_size,
              size.width / c.patch_size};
  out.tokens_per_temporal_patch = out.grid.h * out.grid.w / (c.merge_size * c.merge_size);
  out.pixel_values.resize(static_cast<size_t>(out.grid.num_patches()) * c.patch_dim());
  patchify(ptrs, c, out.pixel_values.data(), pool);
  for (double t : video_timestamps(frame_indices, video_fps, c.temporal_patch_size))
    out.timestamps.push_back(video_timestamp_text(t));
  return out;
}

}  // namespace kantu
