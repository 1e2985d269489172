// The state of `kantu chat`: the conversation so far as OpenAI-style messages JSON (what
// /save writes and what each turn sends, so a saved chat replays exactly with
// `kantu run --messages`), and the pictures waiting for the next question.
#pragma once

#include <string>
#include <vector>

#include "text/chat.h"
#include "text/chat_messages.h"

namespace kantu::cli {

class Conversation {
 public:
  // `start_images`: the command line's --image files, sent with the first question (and
  // again with the first one after reset()).
  explicit Conversation(std::vector<std::string> start_images);

  // Checks that the file decodes as an image (a kantu::Error naming it otherwise) and
  // attaches it to the next question.
  void add_image(const std::string& path);
  // A user message: the pending images, then the text. Returns the messages to answer.
  std::vector<text::Message> ask(const std::string& question);
  // The answer to the last question, or (on failure) forgetting that question: its
  // images wait for the next one again.
  void answered(const std::string& answer);
  void drop_question();
  void reset();

  const text::OrderedJson& messages() const { return messages_; }
  size_t pending_images() const { return pending_.size(); }
  // Writes the messages as pretty JSON (kantu::Error when the file cannot be written).
  void save(const std::string& path) const;

 private:
  std::vector<std::string> start_images_;
  std::vector<std::string> pending_;  // absolute paths
  std::vector<std::string> asked_with_;  // the images of the question being answered
  text::OrderedJson messages_ = text::OrderedJson::array();
};

}  // namespace kantu::cli
