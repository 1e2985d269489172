#include "image/resize.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "image/resize_kernels.h"

namespace kantu {
namespace {

constexpr double kBicubicSupport = 2.0;

// Pillow's bicubic_filter with a = -0.5.
double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis (box = whole input).
ResampleAxis make_axis(int in_size, int out_size) {
  ResampleAxis axis;
  // Pillow computes in1 - in0 in float, then divides in double.
  const double scale = static_cast<double>(static_cast<float>(in_size)) / out_size;
  const double filter_scale = scale < 1.0 ? 1.0 : scale;
  const double support = kBicubicSupport * filter_scale;
  axis.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  axis.first.resize(out_size);
  axis.count.resize(out_size);
  axis.coeffs.assign(static_cast<size_t>(out_size) * axis.ksize, 0);
  std::vector<double> w(axis.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double sum = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      sum += w[x];
    }
    int32_t* k = &axis.coeffs[static_cast<size_t>(xx) * axis.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = (sum != 0.0 ? w[x] / sum : w[x]) * (1 << kResamplePrecisionBits);
      k[x] = static_cast<int32_t>(v < 0 ? v - 0.5 : v + 0.5);
    }
    axis.first[xx] = xmin;
    axis.count[xx] = xmax;
  }
  return axis;
}

void for_rows(ThreadPool* pool, int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (pool != nullptr && pool->size() > 1 && n >= 16) {
    pool->parallel_ranges(n, fn, 8);
  } else {
    fn(0, n);
  }
}

}  // namespace

RgbImage resize_bicubic(const RgbImage& image, int out_width, int out_height, ThreadPool* pool) {
  if (out_width < 1 || out_height < 1)
    fail(ErrorKind::kInvalidArgument, "resize: target size ", out_width, "x", out_height,
         " must be at least 1x1");
  if (image.width < 1 || image.height < 1)
    fail(ErrorKind::kInvalidArgument, "resize: empty input image");
  KANTU_CHECK(image.pixels.size() == static_cast<size_t>(image.num_pixels()) * 3);
  const bool need_horizontal = out_width != image.width;
  const bool need_vertical = out_height != image.height;
  if (!need_horizontal && !need_vertical) return image;

  const ResampleKernels& kernels = resample_kernels();
  ResampleAxis vertical = make_axis(image.height, out_height);
  const RgbImage* src = &image;
  RgbImage temp;
  if (need_horizontal) {
    // Only the input rows that the vertical pass reads, as Pillow does.
    const int first_row = vertical.first[0];
    const int last_row = vertical.first[out_height - 1] + vertical.count[out_height - 1];
    for (int& f : vertical.first) f -= first_row;
    ResampleAxis horizontal = make_axis(image.width, out_width);
    temp = RgbImage(out_width, last_row - first_row);
    for_rows(pool, temp.height, [&](int64_t begin, int64_t end) {
      for (int64_t y = begin; y < end; ++y)
        kernels.horizontal(image.row(static_cast<int>(y) + first_row), temp.row(static_cast<int>(y)),
                           out_width, horizontal);
    });
    src = &temp;
  }
  if (!need_vertical) return temp;
  RgbImage out(src->width, out_height);
  const size_t row_bytes = static_cast<size_t>(src->width) * 3;
  for_rows(pool, out_height, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> acc(row_bytes);
    for (int64_t yy = begin; yy < end; ++yy) {
      const int32_t* k = &vertical.coeffs[static_cast<size_t>(yy) * vertical.ksize];
      const int first = vertical.first[yy];
      kernels.vertical(src->pixels.data() + first * row_bytes, row_bytes, vertical.count[yy], k,
                       out.row(static_cast<int>(yy)), row_bytes, acc.data());
    }
  });
  return out;
}

}  // namespace kantu
