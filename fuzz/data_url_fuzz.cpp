// libFuzzer target: base64 data: URLs and base64 itself (core/base64.h), as images
// arrive in chat requests and message files. Anything but bytes or a kantu::Error is a
// bug, and what is accepted must survive a round trip through the encoder.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  try {
    const kantu::DataUrl url = kantu::parse_data_url(input, "fuzz");
    if (url.media_type.find(';') != std::string::npos || url.media_type.find(',') != std::string::npos)
      __builtin_trap();
    if (kantu::base64_decode(kantu::base64_encode(url.bytes), "round trip") != url.bytes) __builtin_trap();
  } catch (const kantu::Error&) {
  }
  try {
    const std::string bytes = kantu::base64_decode(input, "fuzz");
    if (bytes.size() > input.size()) __builtin_trap();
    const std::string encoded = kantu::base64_encode(bytes);
    if (kantu::base64_decode(encoded, "round trip") != bytes) __builtin_trap();
  } catch (const kantu::Error&) {
  }
  // Encoding any bytes gives text that decodes back to them.
  const std::string encoded = kantu::base64_encode(input);
  if (kantu::base64_decode(encoded, "encoded") != input) __builtin_trap();
  return 0;
}
