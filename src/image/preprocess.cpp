#include "image/preprocess.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/thread_pool.h"
#include "formats/preprocessor_config.h"
#include "image/clip_preprocess.h"
#include "image/resize.h"

namespace kantu {

ImagePreprocessConfig image_preprocess_config(const PreprocessorConfig& config) {
  ImagePreprocessConfig out;
  out.min_pixels = config.min_pixels;
  out.max_pixels = config.max_pixels;
  out.patch_size = static_cast<int>(config.patch_size);
  out.merge_size = static_cast<int>(config.merge_size);
  out.temporal_patch_size = static_cast<int>(config.temporal_patch_size);
  for (int c = 0; c < 3; ++c) {
    out.image_mean[c] = config.image_mean[c];
    out.image_std[c] = config.image_std[c];
  }
  out.rescale_factor = config.rescale_factor;
  const std::string& type = config.image_processor_type;
  out.fused_normalize = type.empty() || type.ends_with("Fast");
  validate(out);
  return out;
}

void validate(const ImagePreprocessConfig& c) {
  if (c.patch_size < 1 || c.patch_size > 1024 || c.merge_size < 1 || c.merge_size > 64 ||
      c.temporal_patch_size < 1 || c.temporal_patch_size > 64)
    fail(ErrorKind::kInvalidArgument, "image preprocessing: patch_size ", c.patch_size,
         ", merge_size ", c.merge_size, ", temporal_patch_size ", c.temporal_patch_size,
         " out of range");
  if (c.min_pixels < 0 || c.max_pixels <= 0 || c.min_pixels > c.max_pixels)
    fail(ErrorKind::kInvalidArgument, "image preprocessing: need 0 <= min_pixels (", c.min_pixels,
         ") <= max_pixels (", c.max_pixels, ")");
  if (!(c.rescale_factor > 0.0) || !std::isfinite(c.rescale_factor))
    fail(ErrorKind::kInvalidArgument, "image preprocessing: rescale_factor must be positive");
  for (int i = 0; i < 3; ++i) {
    if (!(c.image_std[i] > 0.0) || !std::isfinite(c.image_mean[i]))
      fail(ErrorKind::kInvalidArgument, "image preprocessing: image_std must be positive and "
           "image_mean finite (channel ", i, ")");
  }
}

double round_half_even(double x) {
  const double lower = std::floor(x);
  const double diff = x - lower;
  if (diff > 0.5) return lower + 1.0;
  if (diff < 0.5) return lower;
  return std::fmod(lower, 2.0) == 0.0 ? lower : lower + 1.0;
}

ResizedSize smart_resize(int64_t height, int64_t width, int64_t factor, int64_t min_pixels,
                         int64_t max_pixels) {
  if (height <= 0 || width <= 0)
    fail(ErrorKind::kInvalidArgument, "smart_resize: image size ", height, "x", width,
         " has a zero side");
  if (factor <= 0) fail(ErrorKind::kInvalidArgument, "smart_resize: factor must be positive");
  if (min_pixels < 0 || max_pixels <= 0 || min_pixels > max_pixels)
    fail(ErrorKind::kInvalidArgument, "smart_resize: need 0 <= min_pixels (", min_pixels,
         ") <= max_pixels (", max_pixels, ") and max_pixels > 0");
  const double h = static_cast<double>(height);
  const double w = static_cast<double>(width);
  const double f = static_cast<double>(factor);
  if (std::max(h, w) / std::min(h, w) > 200.0)
    fail(ErrorKind::kInvalidArgument, "smart_resize: absolute aspect ratio must be smaller than 200, got ",
         std::max(h, w) / std::min(h, w), " for ", height, "x", width);
  double h_bar = round_half_even(h / f) * f;
  double w_bar = round_half_even(w / f) * f;
  if (h_bar * w_bar > static_cast<double>(max_pixels)) {
    const double beta = std::sqrt((h * w) / static_cast<double>(max_pixels));
    h_bar = std::floor(h / beta / f) * f;
    w_bar = std::floor(w / beta / f) * f;
  } else if (h_bar * w_bar < static_cast<double>(min_pixels)) {
    const double beta = std::sqrt(static_cast<double>(min_pixels) / (h * w));
    h_bar = std::ceil(h * beta / f) * f;
    w_bar = std::ceil(w * beta / f) * f;
  }
  return {std::max<int64_t>(factor, static_cast<int64_t>(h_bar)),
          std::max<int64_t>(factor, static_cast<int64_t>(w_bar))};
}

std::array<std::array<float, 256>, 3> normalize_table(const ImagePreprocessConfig& config) {
  std::array<std::array<float, 256>, 3> table{};
  const double inv_rescale = 1.0 / config.rescale_factor;
  for (int c = 0; c < 3; ++c) {
    if (!config.fused_normalize) {  // Qwen2VLImageProcessor: rescale in float64, then f32
      const float mean = static_cast<float>(config.image_mean[c]);
      const float std_dev = static_cast<float>(config.image_std[c]);
      for (int v = 0; v < 256; ++v) {
        const auto x = static_cast<float>(static_cast<double>(v) * config.rescale_factor);
        table[c][v] = (x - mean) / std_dev;
      }
      continue;
    }
    // transformers' _fuse_mean_std_and_rescale_factor, then torchvision normalize in f32.
    const float mean = static_cast<float>(config.image_mean[c] * inv_rescale);
    const float std_dev = static_cast<float>(config.image_std[c] * inv_rescale);
    for (int v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) - mean) / std_dev;
  }
  return table;
}

void patchify(const std::vector<const RgbImage*>& frames, const ImagePreprocessConfig& config,
              float* out, ThreadPool* pool) {
  const int p = config.patch_size;
  const int m = config.merge_size;
  const int tp = config.temporal_patch_size;
  const int factor = config.factor();
  if (frames.empty() || frames.size() % tp != 0)
    fail(ErrorKind::kInvalidArgument, "patchify: ", frames.size(),
         " frames is not a positive multiple of temporal_patch_size ", tp);
  const int height = frames[0]->height;
  const int width = frames[0]->width;
  for (const RgbImage* f : frames) {
    if (f->height != height || f->width != width)
      fail(ErrorKind::kInvalidArgument, "patchify: frames differ in size");
  }
  if (height <= 0 || width <= 0 || height % factor != 0 || width % factor != 0)
    fail(ErrorKind::kInvalidArgument, "patchify: size ", height, "x", width,
         " is not a multiple of ", factor);
  const auto table = normalize_table(config);
  const int64_t grid_t = static_cast<int64_t>(frames.size()) / tp;
  const int64_t grid_h = height / p;
  const int64_t grid_w = width / p;
  const int64_t blocks_w = grid_w / m;
  const int64_t n_rows = grid_t * grid_h * grid_w;
  const int64_t dim = config.patch_dim();
  auto fill = [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      // row = ((t * blocks_h + bh) * blocks_w + bw) * m*m + r * m + c
      const int64_t in_block = row % (m * m);
      const int64_t block = row / (m * m);
      const int64_t bw = block % blocks_w;
      const int64_t bh = (block / blocks_w) % (grid_h / m);
      const int64_t t = block / blocks_w / (grid_h / m);
      const int64_t ph = bh * m + in_block / m;
      const int64_t pw = bw * m + in_block % m;
      float* dst = out + row * dim;
      for (int ch = 0; ch < 3; ++ch) {
        const float* lut = table[ch].data();
        for (int tt = 0; tt < tp; ++tt) {
          const RgbImage& frame = *frames[t * tp + tt];
          for (int py = 0; py < p; ++py) {
            const uint8_t* src = frame.row(static_cast<int>(ph * p + py)) + pw * p * 3 + ch;
            for (int px = 0; px < p; ++px) *dst++ = lut[src[px * 3]];
          }
        }
      }
    }
  };
  if (pool != nullptr && pool->size() > 1 && n_rows >= 64) {
    pool->parallel_ranges(n_rows, fill, 32);
  } else {
    fill(0, n_rows);
  }
}

int64_t image_token_count(int64_t height, int64_t width, const ImagePreprocessConfig& config) {
  if (config.kind != ImageProcessorKind::kQwenPatches) return clip_image_tokens({height, width}, config);
  const ResizedSize size =
      smart_resize(height, width, config.factor(), config.min_pixels, config.max_pixels);
  return (size.height / config.factor()) * (size.width / config.factor());
}

PatchGrid image_grid(int64_t height, int64_t width, const ImagePreprocessConfig& config) {
  if (config.kind != ImageProcessorKind::kQwenPatches) return clip_image_grid({height, width}, config);
  const ResizedSize size =
      smart_resize(height, width, config.factor(), config.min_pixels, config.max_pixels);
  return {1, size.height / config.patch_size, size.width / config.patch_size};
}

PreprocessedImage preprocess_image(const RgbImage& image, const ImagePreprocessConfig& config,
                                   ThreadPool* pool) {
  if (config.kind != ImageProcessorKind::kQwenPatches) return clip_preprocess_image(image, config, pool);
  validate(config);
  if (image.width <= 0 || image.height <= 0)
    fail(ErrorKind::kInvalidArgument, "preprocess: empty image");
  const ResizedSize size =
      smart_resize(image.height, image.width, config.factor(), config.min_pixels,
                   config.max_pixels);
  if (size.height > (1 << 20) || size.width > (1 << 20))
    fail(ErrorKind::kTooLarge, "preprocess: target size ", size.height, "x", size.width,
         " is too large");
  PreprocessedImage result;
  result.resized = resize_bicubic(image, static_cast<int>(size.width),
                                  static_cast<int>(size.height), pool);
  result.grid = {1, size.height / config.patch_size, size.width / config.patch_size};
  result.num_tokens = result.grid.num_patches() / (config.merge_size * config.merge_size);
  result.pixel_values.resize(static_cast<size_t>(result.grid.num_patches()) * config.patch_dim());
  // A single image is repeated to fill the temporal patch.
  std::vector<const RgbImage*> frames(config.temporal_patch_size, &result.resized);
  patchify(frames, config, result.pixel_values.data(), pool);
  result.shape = {result.grid.num_patches(), config.patch_dim()};
  result.image_height = image.height;
  result.image_width = image.width;
  return result;
}

}  // namespace kantu
