#include "image/anyres.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/error.h"

namespace kantu {

namespace {

void check_size(HeightWidth s, const char* what) {
  if (s.height < 1 || s.width < 1) {
    fail(ErrorKind::kInvalidArgument, "anyres: ", what, " ", s.height, "x", s.width, " has a zero side");
  }
}

}  // namespace

double python_round7(double x) {
  if (!std::isfinite(x)) return x;
  char buffer[400];
  std::snprintf(buffer, sizeof(buffer), "%.7f", x);
  return std::strtod(buffer, nullptr);
}

HeightWidth select_best_resolution(HeightWidth image, Pinpoints pinpoints) {
  check_size(image, "image");
  if (pinpoints.empty()) fail(ErrorKind::kInvalidArgument, "anyres: no image_grid_pinpoints");
  const double h = static_cast<double>(image.height), w = static_cast<double>(image.width);
  HeightWidth best;
  int64_t max_effective = 0;
  int64_t min_wasted = std::numeric_limits<int64_t>::max();
  for (const auto& [ph, pw] : pinpoints) {
    const double scale = std::min(static_cast<double>(pw) / w, static_cast<double>(ph) / h);
    const auto down_w = static_cast<int64_t>(w * scale), down_h = static_cast<int64_t>(h * scale);
    const int64_t effective = std::min(down_w * down_h, image.width * image.height);
    const int64_t wasted = pw * ph - effective;
    if (effective > max_effective || (effective == max_effective && wasted < min_wasted)) {
      max_effective = effective;
      min_wasted = wasted;
      best = {ph, pw};
    }
  }
  if (best.height == 0) fail(ErrorKind::kInvalidArgument, "anyres: no pinpoint fits the image");
  return best;
}

HeightWidth patch_output_size(HeightWidth image, HeightWidth target) {
  check_size(image, "image");
  check_size(target, "canvas");
  const double scale_w = static_cast<double>(target.width) / static_cast<double>(image.width);
  const double scale_h = static_cast<double>(target.height) / static_cast<double>(image.height);
  if (scale_w < scale_h) {
    const auto h = static_cast<int64_t>(std::ceil(static_cast<double>(image.height) * scale_w));
    return {std::min(h, target.height), target.width};
  }
  const auto w = static_cast<int64_t>(std::ceil(static_cast<double>(image.width) * scale_h));
  return {target.height, std::min(w, target.width)};
}

int64_t anyres_tile_count(HeightWidth image, Pinpoints pinpoints, int64_t tile_size) {
  if (tile_size < 1) fail(ErrorKind::kInvalidArgument, "anyres: bad tile size ", tile_size);
  const HeightWidth best = select_best_resolution(image, pinpoints);
  const int64_t rows = (best.height + tile_size - 1) / tile_size;
  const int64_t cols = (best.width + tile_size - 1) / tile_size;
  return rows * cols + 1;
}

UnpaddedGrid unpadded_grid(HeightWidth original, int64_t current_height, int64_t current_width) {
  check_size(original, "image");
  check_size({current_height, current_width}, "feature grid");
  const double oh = static_cast<double>(original.height), ow = static_cast<double>(original.width);
  const double ch = static_cast<double>(current_height), cw = static_cast<double>(current_width);
  UnpaddedGrid g{0, current_height, 0, current_width};
  if (ow / oh > cw / ch) {
    const auto new_height = static_cast<int64_t>(python_round7(oh * (cw / ow)));
    const int64_t padding = (current_height - new_height) / 2;  // never negative here
    g.top = padding;
    g.rows = current_height - 2 * padding;
  } else {
    const auto new_width = static_cast<int64_t>(python_round7(ow * (ch / oh)));
    const int64_t padding = (current_width - new_width) / 2;
    g.left = padding;
    g.cols = current_width - 2 * padding;
  }
  return g;
}

int64_t anyres_image_tokens(HeightWidth image, Pinpoints pinpoints, const AnyresGeometry& geo) {
  if (geo.tile_size < 1 || geo.patch_size < 1 || geo.tile_size < geo.patch_size) {
    fail(ErrorKind::kInvalidArgument, "anyres: tile size ", geo.tile_size, " and patch size ",
         geo.patch_size, " do not fit");
  }
  const HeightWidth best = select_best_resolution(image, pinpoints);
  const int64_t patches = geo.tile_size / geo.patch_size;
  const int64_t grid_h = patches * (best.height / geo.tile_size);
  const int64_t grid_w = patches * (best.width / geo.tile_size);
  if (grid_h < 1 || grid_w < 1) {
    fail(ErrorKind::kInvalidArgument, "anyres: canvas ", best.height, "x", best.width,
         " is smaller than a tile of ", geo.tile_size);
  }
  const UnpaddedGrid g = unpadded_grid(image, grid_h, grid_w);
  const int64_t base = patches * patches + geo.additional_tokens;
  const int64_t tokens = g.rows * g.cols + g.rows + base;
  return geo.drop_cls ? tokens - 1 : tokens;
}

}  // namespace kantu
