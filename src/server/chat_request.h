// Parses and validates the body of POST /v1/chat/completions (OpenAI format) into a
// ChatRequest. Every malformed field is an Error naming the field: kInvalidArgument
// (HTTP 400), kUnsupported (415: an image format we cannot decode), kTooLarge (413).
// JSON stays in the server layer: the engine only sees the typed ChatRequest.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "server/engine.h"

namespace kantu::server {

struct ChatRequestLimits {
  size_t max_image_bytes = 20u << 20;  // per decoded image file
  size_t max_images = 16;
  // Fetches an http(s) image URL (returns the bytes or throws Error); empty = remote
  // images are refused with a 400.
  std::function<std::string(const std::string& url)> fetch_remote_image;
};

struct ParsedChatRequest {
  ChatRequest chat;
  std::string model;  // as sent (echoed back), may be empty
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

ParsedChatRequest parse_chat_request(std::string_view body, const ChatRequestLimits& limits);

// Decodes a data: URL carrying a base64 image; `what` names it in errors.
std::string decode_image_data_url(std::string_view url, std::string_view what);

// Refuses bytes that are not one of the image formats we decode (sniffed from the
// magic bytes, not the declared type): Error(kUnsupported).
void check_image_magic(std::string_view bytes, std::string_view what);

}  // namespace kantu::server
