// libFuzzer target: decode_image (format detection, every decoder, EXIF orientation) on
// arbitrary bytes. Anything but a kantu::Error or a well-formed image is a bug.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kantu::DecodeLimits limits;
  limits.max_pixels = 4'000'000;
  try {
    kantu::RgbImage img = kantu::decode_image({data, size}, limits, "fuzz");
    if (img.pixels.size() != static_cast<size_t>(img.num_pixels()) * 3) __builtin_trap();
  } catch (const kantu::Error&) {
  }
  return 0;
}
