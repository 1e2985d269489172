// libFuzzer target: the bmp decoder on arbitrary bytes. Any outcome but a kantu::Error
// or a well-formed image (a crash, a sanitizer report, a hang, an abort) is a bug.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "image/decoders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kantu::DecodeLimits limits;
  limits.max_pixels = 4'000'000;  // keeps each run fast; the limit logic is still exercised
  try {
    kantu::DecodedImage img = kantu::decode_bmp({data, size}, limits, "fuzz");
    if (img.rgb.pixels.size() != static_cast<size_t>(img.rgb.num_pixels()) * 3) __builtin_trap();
  } catch (const kantu::Error&) {
  }
  return 0;
}
