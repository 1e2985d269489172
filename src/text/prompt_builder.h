// Pieces shared by the native chat formats: a builder of RenderedPrompt (control tokens
// vs text) and the rendering of a content list the way the Qwen templates do it.
#pragma once

#include <string_view>

#include "text/chat.h"

namespace kantu::text {

class PromptBuilder {
 public:
  // Appends text (merged with the text before it); empty text adds nothing.
  void text(std::string_view s);
  void control(const char* token) { prompt_.pieces.push_back({true, token}); }
  RenderedPrompt& prompt() { return prompt_; }

 private:
  RenderedPrompt prompt_;
};

// Images and videos seen so far in the conversation ("Picture N: " numbering).
struct VisionCounters {
  int images = 0, videos = 0;
};

// A content list: images as <|vision_start|><|image_pad|><|vision_end|>, videos with
// <|video_pad|>, each optionally labelled "Picture N: " / "Video N: "; text verbatim;
// anything else nothing.
void render_parts(const Message& m, const ChatOptions& options, VisionCounters& counters,
                  PromptBuilder& out);

}  // namespace kantu::text
