// Per-format decoders behind decode_image() (image/decode.h). Internal to image/.
// Each returns RGB and the EXIF orientation found in the file (1 = none); each checks
// the header's size against the limits (check_decode_size) before allocating pixels.
#pragma once

#include <span>
#include <string>

#include "image/decode.h"

namespace kantu {

struct DecodedImage {
  RgbImage rgb;
  int orientation = 1;  // EXIF orientation 1..8
};

// Throws kCorrupt for a zero side, kTooLarge above the limits; `what` names the source.
void check_decode_size(int64_t width, int64_t height, const DecodeLimits& limits,
                       const std::string& what);

DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                         const std::string& what);
DecodedImage decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what);
DecodedImage decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                         const std::string& what);
DecodedImage decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what);
DecodedImage decode_bmp(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what);

}  // namespace kantu
