#include "cli/conversation.h"

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "image/decode.h"

namespace kantu::cli {

Conversation::Conversation(std::vector<std::string> start_images)
    : start_images_(std::move(start_images)) {
  for (const std::string& path : start_images_) add_image(path);
  start_images_ = pending_;  // absolute, as checked
}

void Conversation::add_image(const std::string& path) {
  decode_image_file(path);  // a missing or broken file is an error now, not at the next answer
  pending_.push_back(std::filesystem::absolute(path).lexically_normal().string());
}

std::vector<text::Message> Conversation::ask(const std::string& question) {
  text::OrderedJson content = text::OrderedJson::array();
  for (const std::string& path : pending_)
    content.push_back({{"type", "image_url"}, {"image_url", {{"url", "file://" + path}}}});
  content.push_back({{"type", "text"}, {"text", question}});
  messages_.push_back({{"role", "user"}, {"content", std::move(content)}});
  asked_with_ = std::move(pending_);
  pending_.clear();
  return text::parse_messages(messages_, "the conversation");
}

void Conversation::answered(const std::string& answer) {
  messages_.push_back({{"role", "assistant"}, {"content", answer}});
  asked_with_.clear();
}

void Conversation::drop_question() {
  if (!messages_.empty() && messages_.back()["role"] == "user") messages_.erase(messages_.size() - 1);
  pending_.insert(pending_.begin(), asked_with_.begin(), asked_with_.end());
  asked_with_.clear();
}

void Conversation::reset() {
  messages_ = text::OrderedJson::array();
  pending_ = start_images_;
  asked_with_.clear();
}

void Conversation::save(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(ErrorKind::kNotFound, "cannot write ", path);
  out << messages_.dump(2, ' ', false, text::OrderedJson::error_handler_t::replace) << "\n";
  if (!out.flush()) fail(ErrorKind::kInternal, "writing ", path, " failed");
}

}  // namespace kantu::cli
