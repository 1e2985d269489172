// Where each image part of chat messages comes from (file path, file:// or a base64
// data: URL) and loading it.
#pragma once

#include <string>
#include <vector>

#include "image/image.h"
#include "text/chat.h"

namespace kantu::runtime {

struct ImageSource {
  std::string ref;    // as written in the message: a path, file://..., data:...; "" = bare
  std::string label;  // for messages: "messages[1].content[0] (cat.png)"
};

// Every image part of the messages, in prompt order.
std::vector<ImageSource> image_sources(const std::vector<text::Message>& messages);

// Reads and decodes one source. A bare part (no source), an http(s) URL, a missing
// file or undecodable bytes are kantu::Errors naming the part.
RgbImage load_image_source(const ImageSource& source);

}  // namespace kantu::runtime
