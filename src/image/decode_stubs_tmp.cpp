#include "core/error.h"
#include "image/decoders.h"

namespace kantu {
DecodedImage decode_webp(std::span<const uint8_t>, const DecodeLimits&, const std::string& what) {
  fail(ErrorKind::kUnsupported, what, ": WebP decoding is not available yet");
}
DecodedImage decode_gif(std::span<const uint8_t>, const DecodeLimits&, const std::string& what) {
  fail(ErrorKind::kUnsupported, what, ": GIF decoding is not available yet");
}
DecodedImage decode_bmp(std::span<const uint8_t>, const DecodeLimits&, const std::string& what) {
  fail(ErrorKind::kUnsupported, what, ": BMP decoding is not available yet");
}
}  // namespace kantu
