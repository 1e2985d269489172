// EXIF orientation: reading tag 0x0112 from a TIFF-structured EXIF block, and applying
// it the way PIL.ImageOps.exif_transpose does. Internal to image/ and its tests.
#pragma once

#include <cstdint>
#include <span>

#include "image/image.h"

namespace kantu {

// The orientation (1..8) in an EXIF block that starts at the TIFF header ("II*\0" or
// "MM\0*"), optionally preceded by "Exif\0\0". Returns 1 when absent, out of range or
// malformed: a broken EXIF block never fails the decode (Pillow ignores it too).
int exif_orientation(std::span<const uint8_t> exif);

// Returns the image turned upright for orientation 1..8 (others: unchanged).
RgbImage apply_orientation(RgbImage image, int orientation);

}  // namespace kantu
