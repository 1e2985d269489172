#include "image/clip_preprocess.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "formats/clip_preprocessor_config.h"
#include "image/resize.h"

namespace kantu {

namespace {

constexpr int64_t kMaxSide = 1 << 14;

RgbImage resize_to(const RgbImage& image, HeightWidth size, ThreadPool* pool) {
  if (size.height < 1 || size.width < 1 || size.height > kMaxSide || size.width > kMaxSide) {
    fail(ErrorKind::kInvalidArgument, "preprocess: resize target ", size.height, "x", size.width,
         " is out of range");
  }
  return resize_bicubic(image, static_cast<int>(size.width), static_cast<int>(size.height), pool);
}

// CLIPImageProcessor._preprocess on one image (also each NeXT tile).
RgbImage clip_steps(const RgbImage& image, const ClipPreprocessorConfig& c, ThreadPool* pool) {
  RgbImage out = image;
  if (c.do_resize) {
    const HeightWidth size = c.size_height > 0 ? HeightWidth{c.size_height, c.size_width}
                                               : shortest_edge_size({image.height, image.width}, c.shortest_edge);
    out = resize_to(out, size, pool);
  }
  if (c.do_center_crop) out = center_crop(out, c.crop_height, c.crop_width);
  return out;
}

RgbImage crop_tile(const RgbImage& canvas, int64_t top, int64_t left, int64_t size) {
  const int64_t h = std::min(size, canvas.height - top), w = std::min(size, canvas.width - left);
  RgbImage tile(static_cast<int>(w), static_cast<int>(h));
  for (int64_t y = 0; y < h; ++y) {
    std::memcpy(tile.row(static_cast<int>(y)), canvas.row(static_cast<int>(top + y)) + left * 3,
                static_cast<size_t>(w) * 3);
  }
  return tile;
}

ClipPixelValues to_pixel_values(std::vector<RgbImage> tiles, const ClipPreprocessorConfig& c) {
  ClipPixelValues out;
  out.tiles = static_cast<int64_t>(tiles.size());
  out.height = tiles.at(0).height;
  out.width = tiles.at(0).width;
  const auto table = clip_normalize_table(c);
  const int64_t plane = out.height * out.width;
  out.data.resize(static_cast<size_t>(out.tiles * 3 * plane));
  for (int64_t t = 0; t < out.tiles; ++t) {
    const RgbImage& tile = tiles[static_cast<size_t>(t)];
    if (tile.height != out.height || tile.width != out.width) {
      fail(ErrorKind::kInvalidArgument, "preprocess: tiles of different sizes (", tile.height, "x",
           tile.width, " and ", out.height, "x", out.width, "); the config crops no common size");
    }
    float* dst = out.data.data() + t * 3 * plane;
    for (int64_t i = 0; i < plane; ++i) {
      for (int ch = 0; ch < 3; ++ch) dst[ch * plane + i] = table[ch][tile.pixels[static_cast<size_t>(i * 3 + ch)]];
    }
  }
  out.tiles_u8 = std::move(tiles);
  return out;
}

void check_input(const RgbImage& image) {
  if (image.width < 1 || image.height < 1) fail(ErrorKind::kInvalidArgument, "preprocess: empty image");
}

}  // namespace

HeightWidth shortest_edge_size(HeightWidth image, int64_t shortest_edge) {
  if (image.height < 1 || image.width < 1 || shortest_edge < 1) {
    fail(ErrorKind::kInvalidArgument, "preprocess: cannot resize ", image.height, "x", image.width,
         " to a shortest edge of ", shortest_edge);
  }
  const bool portrait = image.width <= image.height;
  const int64_t short_side = portrait ? image.width : image.height;
  const int64_t long_side = portrait ? image.height : image.width;
  // Python: int(size * long / short), the product exact, the division correctly rounded.
  const auto new_long = static_cast<int64_t>(static_cast<double>(shortest_edge * long_side) /
                                             static_cast<double>(short_side));
  return portrait ? HeightWidth{new_long, shortest_edge} : HeightWidth{shortest_edge, new_long};
}

RgbImage center_crop(const RgbImage& image, int64_t crop_height, int64_t crop_width) {
  if (crop_height < 1 || crop_width < 1 || crop_height > kMaxSide || crop_width > kMaxSide) {
    fail(ErrorKind::kInvalidArgument, "preprocess: bad crop size ", crop_height, "x", crop_width);
  }
  const int64_t h = image.height, w = image.width;
  // Python floor division: the offsets may be negative when the crop is larger.
  const auto floor_half = [](int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  const int64_t top = floor_half(h - crop_height), left = floor_half(w - crop_width);
  RgbImage out(static_cast<int>(crop_width), static_cast<int>(crop_height));  // zeros
  if (top >= 0 && left >= 0 && top + crop_height <= h && left + crop_width <= w) {
    for (int64_t y = 0; y < crop_height; ++y) {
      std::memcpy(out.row(static_cast<int>(y)), image.row(static_cast<int>(top + y)) + left * 3,
                  static_cast<size_t>(crop_width) * 3);
    }
    return out;
  }
  // The reference pads the image centred (ceil) onto max(crop, image), then crops.
  const int64_t new_h = std::max(crop_height, h), new_w = std::max(crop_width, w);
  const int64_t top_pad = (new_h - h + 1) / 2, left_pad = (new_w - w + 1) / 2;
  const int64_t y0 = std::max<int64_t>(0, top + top_pad), x0 = std::max<int64_t>(0, left + left_pad);
  const int64_t y1 = std::min(new_h, top + top_pad + crop_height), x1 = std::min(new_w, left + left_pad + crop_width);
  RgbImage cropped(static_cast<int>(x1 - x0), static_cast<int>(y1 - y0));
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) {
      const int64_t sy = y - top_pad, sx = x - left_pad;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;  // padding stays zero
      std::memcpy(cropped.row(static_cast<int>(y - y0)) + (x - x0) * 3,
                  image.row(static_cast<int>(sy)) + sx * 3, 3);
    }
  }
  return cropped;
}

std::array<std::array<float, 256>, 3> clip_normalize_table(const ClipPreprocessorConfig& c) {
  std::array<std::array<float, 256>, 3> table{};
  for (int ch = 0; ch < 3; ++ch) {
    for (int v = 0; v < 256; ++v) {
      float x = c.do_rescale ? static_cast<float>(static_cast<double>(v) * c.rescale_factor)
                             : static_cast<float>(v);
      if (c.do_normalize) x = (x - c.image_mean[ch]) / c.image_std[ch];
      table[ch][v] = x;
    }
  }
  return table;
}

ClipPixelValues clip_preprocess(const RgbImage& image, const ClipPreprocessorConfig& config,
                                ThreadPool* pool) {
  check_input(image);
  std::vector<RgbImage> tiles;
  tiles.push_back(clip_steps(image, config, pool));
  ClipPixelValues out = to_pixel_values(std::move(tiles), config);
  out.image_size = {image.height, image.width};
  return out;
}

ClipPixelValues llava_next_preprocess(const RgbImage& image, const ClipPreprocessorConfig& config,
                                      ThreadPool* pool) {
  check_input(image);
  if (!config.anyres()) fail(ErrorKind::kInvalidArgument, "preprocess: LLaVA-NeXT needs image_grid_pinpoints");
  const HeightWidth size{image.height, image.width};
  const HeightWidth canvas_size = select_best_resolution(size, config.image_grid_pinpoints);
  const HeightWidth fitted = patch_output_size(size, canvas_size);
  const RgbImage resized = resize_to(image, fitted, pool);
  // _pad_for_patching measures the resized image again, then centres it (divmod).
  const HeightWidth placed = patch_output_size({resized.height, resized.width}, canvas_size);
  const int64_t top = (canvas_size.height - placed.height) / 2;
  const int64_t left = (canvas_size.width - placed.width) / 2;
  RgbImage canvas(static_cast<int>(canvas_size.width), static_cast<int>(canvas_size.height));
  for (int64_t y = 0; y < resized.height && top + y < canvas.height; ++y) {
    const int64_t w = std::min<int64_t>(resized.width, canvas.width - left);
    std::memcpy(canvas.row(static_cast<int>(top + y)) + left * 3, resized.row(static_cast<int>(y)),
                static_cast<size_t>(w) * 3);
  }
  const int64_t tile = config.crop_height;  // divide_to_patches(patch_size=crop_size["height"])
  std::vector<RgbImage> tiles;
  tiles.push_back(clip_steps(resize_to(image, {config.base_height(), config.base_width()}, pool), config, pool));
  for (int64_t y = 0; y < canvas.height; y += tile) {
    for (int64_t x = 0; x < canvas.width; x += tile) tiles.push_back(clip_steps(crop_tile(canvas, y, x, tile), config, pool));
  }
  ClipPixelValues out = to_pixel_values(std::move(tiles), config);
  out.image_size = size;
  out.best_resolution = canvas_size;
  out.resized_for_tiles = fitted;
  return out;
}

namespace {

// The size of the tile clip_steps makes of an image of `image`'s size.
HeightWidth clip_tile_size(HeightWidth image, const ClipPreprocessorConfig& c) {
  HeightWidth tile = image;
  if (c.do_resize) {
    tile = c.size_height > 0 ? HeightWidth{c.size_height, c.size_width} : shortest_edge_size(image, c.shortest_edge);
  }
  if (c.do_center_crop) tile = {c.crop_height, c.crop_width};
  return tile;
}

}  // namespace

int64_t clip_image_tokens(HeightWidth image, const ImagePreprocessConfig& config) {
  const ClipPreprocessorConfig& c = config.clip;
  if (config.kind == ImageProcessorKind::kLlavaNext) {
    return anyres_image_tokens(image, c.image_grid_pinpoints, config.tokens);
  }
  if (image.height < 1 || image.width < 1) fail(ErrorKind::kInvalidArgument, "preprocess: empty image");
  // LlavaProcessor: patches of the tile the processor returns, plus the CLS token unless
  // the features drop it.
  const HeightWidth tile = clip_tile_size(image, c);
  const int64_t p = config.tokens.patch_size;
  if (p < 1) fail(ErrorKind::kInvalidArgument, "preprocess: bad patch size ", p);
  return (tile.height / p) * (tile.width / p) + config.tokens.additional_tokens - (config.tokens.drop_cls ? 1 : 0);
}

PatchGrid clip_image_grid(HeightWidth image, const ImagePreprocessConfig& config) {
  const ClipPreprocessorConfig& c = config.clip;
  const int64_t p = config.tokens.patch_size;
  if (image.height < 1 || image.width < 1) fail(ErrorKind::kInvalidArgument, "preprocess: empty image");
  if (p < 1) fail(ErrorKind::kInvalidArgument, "preprocess: bad patch size ", p);
  if (config.kind != ImageProcessorKind::kLlavaNext) {
    const HeightWidth tile = clip_tile_size(image, c);
    return {1, tile.height / p, tile.width / p};
  }
  if (!c.anyres()) fail(ErrorKind::kInvalidArgument, "preprocess: LLaVA-NeXT needs image_grid_pinpoints");
  // llava_next_preprocess: the base tile, then the canvas cut into crop_height squares.
  const int64_t tiles = anyres_tile_count(image, c.image_grid_pinpoints, c.crop_height);
  const HeightWidth base = clip_tile_size({c.base_height(), c.base_width()}, c);
  return {tiles, base.height / p, base.width / p};
}

PreprocessedImage clip_preprocess_image(const RgbImage& image, const ImagePreprocessConfig& config,
                                        ThreadPool* pool) {
  const bool next = config.kind == ImageProcessorKind::kLlavaNext;
  ClipPixelValues pv = next ? llava_next_preprocess(image, config.clip, pool) : clip_preprocess(image, config.clip, pool);
  PreprocessedImage out;
  const int64_t p = config.tokens.patch_size;
  if (p < 1 || pv.height % p != 0 || pv.width % p != 0) {
    fail(ErrorKind::kInvalidArgument, "preprocess: tiles of ", pv.height, "x", pv.width,
         " are not whole patches of ", p);
  }
  out.grid = {pv.tiles, pv.height / p, pv.width / p};
  out.shape = next ? std::vector<int64_t>{1, pv.tiles, 3, pv.height, pv.width}
                   : std::vector<int64_t>{1, 3, pv.height, pv.width};
  out.num_tokens = clip_image_tokens({image.height, image.width}, config);
  out.image_height = image.height;
  out.image_width = image.width;
  out.pixel_values = std::move(pv.data);
  out.resized = std::move(pv.tiles_u8[0]);
  return out;
}

}  // namespace kantu
