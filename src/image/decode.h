// Image decoding from memory: JPEG, PNG, WebP, GIF (first frame), BMP, to 8-bit RGB,
// pixel-identical to what the Hugging Face processors see after
// `PIL.Image.open(f)` + `ImageOps.exif_transpose` + `.convert("RGB")` (Pillow 9.4 rules):
//   - the format comes from the magic bytes, never from a file name;
//   - grayscale is replicated to R = G = B; palette images are looked up in the palette;
//   - alpha is dropped, not blended (RGBA/LA/palette+tRNS keep their colour values);
//     WebP goes through libwebp's animation decoder (first frame) as Pillow does;
//   - 16-bit PNG samples keep their high byte (Pillow's ";16B" unpackers), except 16-bit
//     grayscale, which Pillow opens as 32-bit "I" and clips to 0..255 when converting;
//   - JPEG uses libjpeg-turbo's defaults as Pillow does (ISLOW DCT, fancy upsampling);
//     CMYK/YCCK JPEGs are read as Adobe-inverted CMYK and converted with Pillow's
//     cmyk2rgb: channel = clip(255 - c*(255-k)/255 - k) with Pillow's rounding
//     (see decode_jpeg.cpp);
//   - GIF: the first frame's indices through its (local or global) palette, drawn at
//     its offset on a canvas of the logical screen size filled with index 0 of the
//     palette being used... (see decode_gif.cpp);
//   - the EXIF orientation tag (JPEG APP1, PNG eXIf, WebP EXIF) is applied.
// Every failure is a kantu::Error: kCorrupt (truncated or malformed data), kUnsupported
// (an unknown format or an unsupported variant), kTooLarge (over DecodeLimits, checked
// from the header before any pixel buffer is allocated).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "image/image.h"

namespace kantu {

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif, kBmp };

const char* image_format_name(ImageFormat format);  // "jpeg", "png", ...
// From the first bytes (12 are enough); kUnknown when nothing matches.
ImageFormat detect_image_format(std::span<const uint8_t> bytes);

struct DecodeLimits {
  size_t max_encoded_bytes = size_t{256} << 20;  // 256 MiB
  int64_t max_pixels = 100'000'000;              // width * height of the decoded image
  int max_side = 65535;                          // pixels per side
  // Called with the size from the header once it passed the limits, before any pixel
  // memory is allocated (may throw to stop the decode).
  std::function<void(int64_t width, int64_t height)> on_size;
};

// Width and height as stored (before the EXIF orientation), from the header alone: no
// pixel is decoded. The same checks and errors as decode_image up to the header.
struct StoredSize {
  int64_t width = 0, height = 0;
};
StoredSize probe_image_size(std::span<const uint8_t> bytes, const DecodeLimits& limits = {},
                            const std::string& what = "image");

// What decoding an image of this size allocates at its peak (the decoder's buffers, the
// RGB result, a rotated copy for the EXIF orientation), for memory planning.
size_t decode_peak_bytes(int64_t width, int64_t height);

// Decodes an encoded image held in memory. `what` names the source in error messages.
RgbImage decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits = {},
                      const std::string& what = "image");
// Reads the file (refusing it above limits.max_encoded_bytes) and decodes it.
RgbImage decode_image_file(const std::string& path, const DecodeLimits& limits = {});

}  // namespace kantu
