// libFuzzer target: the body of POST /v1/chat/completions (JSON -> ChatRequest). Any
// bytes must give a request or a kantu::Error, never a crash, a hang or a sanitizer
// report; an accepted request must be consistent (every image part points at an image
// that passed the format check, numbers in range).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "server/chat_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kantu::server::ChatRequestLimits limits;
  limits.max_image_bytes = 1 << 16;  // the limit logic is exercised with small inputs
  limits.max_images = 4;
  try {
    const auto parsed = kantu::server::parse_chat_request(
        std::string_view(reinterpret_cast<const char*>(data), size), limits);
    const auto& chat = parsed.chat;
    if (chat.messages.empty() || chat.images.size() > limits.max_images) __builtin_trap();
    size_t image_parts = 0;
    for (const auto& m : chat.messages) {
      for (const auto& part : m.parts) {
        if (part.kind != kantu::server::ContentPart::Kind::kImage) continue;
        if (part.image_index != image_parts++) __builtin_trap();  // in order, each once
      }
    }
    if (image_parts != chat.images.size()) __builtin_trap();
    for (const std::string& image : chat.images) {
      if (image.empty() || image.size() > limits.max_image_bytes) __builtin_trap();
      kantu::server::check_image_magic(image, "image");  // throws if it let one through
    }
    const auto& p = chat.params;
    if (p.max_tokens < 0 || !(p.temperature >= 0 && p.temperature <= 2) || !(p.top_p > 0 && p.top_p <= 1) ||
        (p.min_pixels && p.max_pixels && p.min_pixels > p.max_pixels))
      __builtin_trap();
  } catch (const kantu::Error&) {
  }
  return 0;
}
