#include "runtime/prompt_images.h"

#include "core/base64.h"
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

RgbImage load_image_source(const ImageSource& source) {
  const std::string& ref = source.ref;
  try {
    if (ref.empty())
      fail(ErrorKind::kInvalidArgument, "no image given (pass --image or an \"image\" path)");
    if (ref.rfind("data:", 0) == 0) {
      const std::string bytes = parse_data_url(ref, "data: URL").bytes;
      return decode_image({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                          DecodeLimits{}, "data: URL");
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
