// Pillow-exact antialiased bicubic resampling (PIL.Image.resize(..., BICUBIC) on an RGB
// image, i.e. libImaging/Resample.c:ImagingResample), which is what the Qwen-VL reference
// processors use:
//   - cubic kernel with a = -0.5 and support 2, widened by the downscale factor
//     (filter scale = max(in/out, 1)) so a downscale is antialiased;
//   - sample centres at (i + 0.5) * in/out; taps from (int)(centre -/+ support + 0.5),
//     clamped to the image; weights normalised to sum 1 in float64, then rounded to
//     22-bit fixed point (PRECISION_BITS = 32 - 8 - 2) away from zero;
//   - a horizontal pass first (only over the rows the vertical pass needs), then a
//     vertical pass; each accumulates in int32 starting from 0.5 and clips to uint8;
//   - a pass whose size already matches is skipped; equal sizes return a copy.
#pragma once

#include "image/image.h"

namespace kantu {

class ThreadPool;

// Resizes to out_width x out_height (both >= 1). pool may be null (single thread).
RgbImage resize_bicubic(const RgbImage& image, int out_width, int out_height,
                        ThreadPool* pool = nullptr);

}  // namespace kantu
