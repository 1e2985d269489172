// The multipart form of POST /v1/vision/completion as a ChatRequest: an "image" file
// part (required, sniffed by its magic bytes) and an optional "prompt" (a file part or a
// form field; default "请描述这张图片"). cpp-httplib parses the multipart body; this
// checks what it found. Kept apart from http_server.cpp so that the form handling can
// be fuzzed together with the parser (fuzz/multipart_form_fuzz.cpp).
#pragma once

#include "server/engine.h"

namespace httplib {
struct Request;
}  // namespace httplib

namespace kantu::server {

inline constexpr const char* kDefaultVisionPrompt = "请描述这张图片";

// Throws Error: kInvalidArgument (400) without an image, kUnsupported (415) for bytes
// that are not a supported image format.
ChatRequest vision_form_request(const httplib::Request& req);

}  // namespace kantu::server
