#include "server/chat_request.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/json.h"
#include "core/base64.h"

namespace kantu::server {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
  fail(ErrorKind::kInvalidArgument, "'", field, "' ", problem);
}

double number_field(const Json& v, const std::string& field, double lo, double hi) {
  if (!v.is_number()) bad(field, "must be a number");
  double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) bad(field, cat("must be in [", lo, ", ", hi, "]"));
  return x;
}

int64_t integer_field(const Json& v, const std::string& field, int64_t lo, int64_t hi) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) bad(field, "must be an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    bad(field, cat("must be in [", lo, ", ", hi, "]"));
  }
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) bad(field, cat("must be in [", lo, ", ", hi, "]"));
  return x;
}

std::string image_from_url(const std::string& url, const std::string& field,
                           const ChatRequestLimits& limits) {
  std::string bytes;
  if (url.rfind("data:", 0) == 0) {
    bytes = decode_image_data_url(url, field);
  } else if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    if (!limits.fetch_remote_image) {
      bad(field, "is an http(s) URL; remote images are disabled (start the server with "
                 "--allow-remote-images, or send the image as a base64 data: URL)");
    }
    bytes = limits.fetch_remote_image(url);
  } else {
    bad(field, "must be a data: URL (data:image/png;base64,...) or an http(s) URL");
  }
  if (bytes.size() > limits.max_image_bytes) {
    fail(ErrorKind::kTooLarge, "'", field, "' is ", bytes.size(), " bytes, over the limit of ",
         limits.max_image_bytes);
  }
  check_image_magic(bytes, field);
  return bytes;
}

void parse_content(const Json& content, const std::string& field, ChatMessage& message,
                   ChatRequest& chat, const ChatRequestLimits& limits) {
  if (content.is_null()) return;
  if (content.is_string()) {
    message.parts.push_back({ContentPart::Kind::kText, content.get<std::string>(), 0});
    return;
  }
  if (!content.is_array()) bad(field, "must be a string, an array of parts or null");
  for (size_t i = 0; i < content.size(); ++i) {
    const Json& part = content[i];
    std::string pf = cat(field, "[", i, "]");
    if (!part.is_object()) bad(pf, "must be an object");
    auto type = part.find("type");
    if (type == part.end() || !type->is_string()) bad(pf + ".type", "must be a string");
    const std::string t = type->get<std::string>();
    if (t == "text") {
      auto text = part.find("text");
      if (text == part.end() || !text->is_string()) bad(pf + ".text", "must be a string");
      message.parts.push_back({ContentPart::Kind::kText, text->get<std::string>(), 0});
    } else if (t == "image_url") {
      auto iu = part.find("image_url");
      std::string url;
      if (iu != part.end() && iu->is_string()) {
        url = iu->get<std::string>();
      } else if (iu != part.end() && iu->is_object() && iu->contains("url") &&
                 (*iu)["url"].is_string()) {
        url = (*iu)["url"].get<std::string>();
      } else {
        bad(pf + ".image_url.url", "must be a string");
      }
      if (chat.images.size() >= limits.max_images) {
        fail(ErrorKind::kTooLarge, "too many images in one request (limit ", limits.max_images,
             ")");
      }
      chat.images.push_back(image_from_url(url, pf + ".image_url.url", limits));
      message.parts.push_back({ContentPart::Kind::kImage, "", chat.images.size() - 1});
    } else {
      bad(pf + ".type", cat("'", t, "' is not supported (use 'text' or 'image_url')"));
    }
  }
}

}  // namespace

void check_image_magic(std::string_view b, std::string_view what) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  if (b.empty()) fail(ErrorKind::kInvalidArgument, what, ": the image is empty");
  if (starts("\xFF\xD8\xFF") || starts("\x89PNG\r\n\x1A\n") || starts("GIF87a") ||
      starts("GIF89a") || (starts("RIFF") && starts("WEBP", 8)) || starts("BM")) {
    return;
  }
  fail(ErrorKind::kUnsupported, what,
       ": unsupported image format (expected JPEG, PNG, WebP, GIF or BMP data)");
}

std::string decode_image_data_url(std::string_view url, std::string_view what) {
  DataUrl data = parse_data_url(url, what);
  const std::string& media = data.media_type;
  if (!media.empty() && media.rfind("image/", 0) != 0 && media != "application/octet-stream") {
    fail(ErrorKind::kUnsupported, what, ": media type '", media, "' is not an image");
  }
  return std::move(data.bytes);
}

ParsedChatRequest parse_chat_request(std::string_view body, const ChatRequestLimits& limits) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(ErrorKind::kInvalidArgument, "the request body is not valid JSON");
  if (!j.is_object()) fail(ErrorKind::kInvalidArgument, "the request body must be a JSON object");

  ParsedChatRequest out;
  ChatRequest& chat = out.chat;
  GenerationParams& p = chat.params;

  if (auto m = j.find("model"); m != j.end() && !m->is_null()) {
    if (!m->is_string()) bad("model", "must be a string");
    out.model = m->get<std::string>();
  }
  auto messages = j.find("messages");
  if (messages == j.end() || !messages->is_array() || messages->empty()) {
    bad("messages", "must be a non-empty array");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    std::string mf = cat("messages[", i, "]");
    if (!m.is_object()) bad(mf, "must be an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) bad(mf + ".role", "must be a string");
    ChatMessage message;
    message.role = role->get<std::string>();
    if (message.role != "system" && message.role != "user" && message.role != "assistant" &&
        message.role != "tool") {
      bad(mf + ".role", cat("'", message.role, "' is not one of system, user, assistant, tool"));
    }
    auto content = m.find("content");
    if (content == m.end()) bad(mf + ".content", "is missing");
    parse_content(*content, mf + ".content", message, chat, limits);
    chat.messages.push_back(std::move(message));
  }

  if (auto s = j.find("stream"); s != j.end() && !s->is_null()) {
    if (!s->is_boolean()) bad("stream", "must be a boolean");
    out.stream = s->get<bool>();
  }
  if (auto so = j.find("stream_options"); so != j.end() && !so->is_null()) {
    if (!so->is_object()) bad("stream_options", "must be an object");
    if (auto iu = so->find("include_usage"); iu != so->end()) {
      if (!iu->is_boolean()) bad("stream_options.include_usage", "must be a boolean");
      out.include_usage = iu->get<bool>();
    }
  }
  constexpr int64_t kMaxInt = std::numeric_limits<int32_t>::max();
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (auto v = j.find(key); v != j.end() && !v->is_null()) {
      p.max_tokens = static_cast<int>(integer_field(*v, key, 1, kMaxInt));
    }
  }
  if (auto n = j.find("n"); n != j.end() && !n->is_null()) {
    if (integer_field(*n, "n", 1, kMaxInt) != 1) bad("n", "must be 1 (one choice per request)");
  }
  if (auto v = j.find("temperature"); v != j.end() && !v->is_null()) {
    p.sampling.temperature = static_cast<float>(number_field(*v, "temperature", 0, 2));
  }
  if (auto v = j.find("top_p"); v != j.end() && !v->is_null()) {
    p.sampling.top_p = static_cast<float>(number_field(*v, "top_p", 0, 1));
    if (*p.sampling.top_p <= 0) bad("top_p", "must be in (0, 1]");
  }
  if (auto v = j.find("top_k"); v != j.end() && !v->is_null()) {
    p.sampling.top_k = static_cast<int>(integer_field(*v, "top_k", 0, kMaxInt));
  }
  if (auto v = j.find("min_p"); v != j.end() && !v->is_null()) {
    p.sampling.min_p = static_cast<float>(number_field(*v, "min_p", 0, 1));
  }
  if (auto v = j.find("presence_penalty"); v != j.end() && !v->is_null()) {
    p.sampling.presence_penalty = static_cast<float>(number_field(*v, "presence_penalty", -2, 2));
  }
  if (auto v = j.find("repetition_penalty"); v != j.end() && !v->is_null()) {
    p.sampling.repetition_penalty = static_cast<float>(number_field(*v, "repetition_penalty", 0, 10));
    if (*p.sampling.repetition_penalty <= 0) bad("repetition_penalty", "must be > 0");
  }
  if (auto v = j.find("seed"); v != j.end() && !v->is_null()) {
    if (!v->is_number_integer() && !v->is_number_unsigned()) bad("seed", "must be an integer");
    p.sampling.seed = v->is_number_unsigned() ? v->get<uint64_t>()
                                              : static_cast<uint64_t>(v->get<int64_t>());
  }
  if (auto v = j.find("stop"); v != j.end() && !v->is_null()) {
    if (v->is_string()) {
      p.stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > 16) bad("stop", "may hold at most 16 strings");
      for (const Json& s : *v) {
        if (!s.is_string()) bad("stop", "must be a string or an array of strings");
        p.stop.push_back(s.get<std::string>());
      }
    } else {
      bad("stop", "must be a string or an array of strings");
    }
    for (const std::string& s : p.stop) {
      if (s.empty()) bad("stop", "must not contain empty strings");
    }
  }
  constexpr int64_t kMaxPixels = int64_t{1} << 40;
  if (auto v = j.find("min_pixels"); v != j.end() && !v->is_null()) {
    p.min_pixels = integer_field(*v, "min_pixels", 1, kMaxPixels);
  }
  if (auto v = j.find("max_pixels"); v != j.end() && !v->is_null()) {
    p.max_pixels = integer_field(*v, "max_pixels", 1, kMaxPixels);
  }
  if (p.min_pixels && p.max_pixels && p.min_pixels > p.max_pixels) {
    bad("min_pixels", "must not exceed max_pixels");
  }
  return out;
}

}  // namespace kantu::server
