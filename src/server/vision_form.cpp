#include "server/vision_form.h"

#include <httplib.h>

#include "core/error.h"
#include "server/chat_request.h"

namespace kantu::server {

ChatRequest vision_form_request(const httplib::Request& req) {
  if (!req.is_multipart_form_data() || !req.has_file("image") || req.get_file_value("image").content.empty())
    fail(ErrorKind::kInvalidArgument, "Missing image file");
  std::string prompt = kDefaultVisionPrompt;
  if (req.has_file("prompt") && !req.get_file_value("prompt").content.empty()) {
    prompt = req.get_file_value("prompt").content;
  } else if (req.has_param("prompt") && !req.get_param_value("prompt").empty()) {
    prompt = req.get_param_value("prompt");
  }
  std::string image = req.get_file_value("image").content;
  check_image_magic(image, "image");
  ChatRequest chat;
  chat.images.push_back(std::move(image));
  chat.messages.push_back({"user", {{ContentPart::Kind::kImage, "", 0}, {ContentPart::Kind::kText, prompt, 0}}});
  return chat;
}

}  // namespace kantu::server
