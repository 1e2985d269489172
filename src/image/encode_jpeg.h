// JPEG encoding (libjpeg-turbo), for the small pictures reports embed (eval's gallery
// thumbnails). Baseline, 4:2:0, the library's default tables scaled by `quality`.
#pragma once

#include <string>

#include "image/image.h"

namespace kantu {

// The JPEG file bytes of image (non-empty); quality 1..100. Error(kInvalidArgument) for an
// empty image or a bad quality.
std::string encode_jpeg(const RgbImage& image, int quality = 80);

}  // namespace kantu
