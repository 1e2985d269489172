#include "runtime/prompt_images.h"

#include "core/error.h"
#include "image/decode.h"

namespace kantu::runtime {

std::vector<ImageSource> image_sources(const std::vector<text::Message>& messages) {
  std::vector<ImageSource> out;
  for (size_t m = 0; m < messages.size(); ++m) {
    const text::Message& msg = messages[m];
    if (msg.content_is_string) continue;
    for (size_t p = 0; p < msg.parts.size(); ++p) {
      if (msg.parts[p].kind != text::ContentPart::Kind::kImage) continue;
      const std::string& ref = msg.parts[p].image;
      std::string shown = ref.rfind("data:", 0) == 0 ? "data: URL" : ref;
      out.push_back({ref, cat("messages[", m, "].content[", p, "] (", shown, ")")});
    }
  }
  return out;
}

std::vector<uint8_t> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value(c);
    if (v < 0 || padding)
      fail(ErrorKind::kInvalidArgument, "invalid base64 data (character '", c, "')");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (bits >= 6) fail(ErrorKind::kInvalidArgument, "invalid base64 data (truncated)");
  return out;
}

RgbImage load_image_source(const ImageSource& source) {
  const std::string& ref = source.ref;
  try {
    if (ref.empty())
      fail(ErrorKind::kInvalidArgument, "no image given (pass --image or an \"image\" path)");
    if (ref.rfind("data:", 0) == 0) {
      const size_t comma = ref.find(',');
      if (comma == std::string::npos || ref.substr(0, comma).find(";base64") == std::string::npos)
        fail(ErrorKind::kInvalidArgument, "only base64 data: URLs are supported");
      const std::vector<uint8_t> bytes = base64_decode(std::string_view(ref).substr(comma + 1));
      return decode_image(bytes, DecodeLimits{}, "data: URL");
    }
    if (ref.rfind("http://", 0) == 0 || ref.rfind("https://", 0) == 0)
      fail(ErrorKind::kUnsupported, "remote image URLs are not fetched; pass a local file");
    const std::string path = ref.rfind("file://", 0) == 0 ? ref.substr(7) : ref;
    return decode_image_file(path);
  } catch (const Error& e) {
    fail(e.kind(), source.label, ": ", e.what());
  }
}

}  // namespace kantu::runtime
