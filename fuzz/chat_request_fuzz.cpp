// libFuzzer target: the body of POST /v1/chat/completions (JSON -> ChatRequest). Any
// bytes must give a request or a kantu::Error, never a crash, a hang or a sanitizer
// report; an accepted request must be consistent (every image part points at an image
// that passed the format check, numbers in range).
#include <cstddef>
#include <cstdint>
#include <optional>
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
    // A sampling field the request gave is in its range; one it left out stays unset (the
    // model's generation_config fills it later).
    const auto& p = chat.params;
    const auto& s = p.sampling;
    const auto outside = [](const std::optional<float>& v, float lo, float hi, bool lo_open) {
      return v && !((lo_open ? *v > lo : *v >= lo) && *v <= hi);
    };
    if (p.max_tokens < 0 || outside(s.temperature, 0, 2, false) || outside(s.top_p, 0, 1, true) ||
        outside(s.min_p, 0, 1, false) || outside(s.presence_penalty, -2, 2, false) ||
        outside(s.repetition_penalty, 0, 10, true) || (s.top_k && *s.top_k < 0) ||
        (p.min_pixels && p.max_pixels && p.min_pixels > p.max_pixels))
      __builtin_trap();
  } catch (const kantu::Error&) {
  }
  return 0;
}
