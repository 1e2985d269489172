// A CaptionBackend speaking the OpenAI chat-completions API over plain HTTP: the image
// goes as a base64 data URL in an image_url part, followed by the prompt as text.
#pragma once

#include <memory>
#include <string>

#include "eval/caption_backend.h"

namespace kantu::eval {

struct EndpointOptions {
  std::string url;    // http://host:port[/prefix]; /v1/chat/completions is appended
                      // unless the URL already ends with /chat/completions (or /v1)
  std::string model;  // the "model" field of the request
  double timeout_s = 300;
};

std::unique_ptr<CaptionBackend> make_endpoint_backend(const EndpointOptions& options);

// Exposed for tests.
std::string base64_encode(const std::string& bytes);
std::string image_mime_type(const std::string& path);

}  // namespace kantu::eval
