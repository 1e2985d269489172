// Pieces shared by the native chat formats: a builder of RenderedPrompt (text is appended
// to the current text piece; control tokens and image placeholders are pieces of their own)
// and the rendering of a content list the way the Qwen templates do it.
#pragma once

#include <string_view>

#include "text/chat.h"

namespace kantu::text {

class PromptBuilder {
 public:
  void text(std::string_view s) {
    if (s.empty()) return;
    if (prompt_.pieces.empty() || prompt_.pieces.back().control) prompt_.pieces.push_back({false, {}});
    prompt_.pieces.back().text.append(s);
  }
  void control(std::string_view token) { prompt_.pieces.push_back({true, std::string(token)}); }
  // The placeholder token of one image, expanded later to the image's visual tokens
  // (the format counts its images in prompt().image_count).
  void image(std::string_view token) { prompt_.pieces.push_back({true, std::string(token), 1, true}); }
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

// A message's content as the Qwen templates render user turns: a string verbatim, a
// content list through render_parts.
void render_content(const Message& m, const ChatOptions& options, VisionCounters& counters,
                    PromptBuilder& out);

// ChatML, the turn markup of the Qwen templates: "<|im_start|>" (a control token) + the
// role + "\n" opens a turn, "<|im_end|>" + "\n" closes it.
void open_chatml_turn(std::string_view role, PromptBuilder& out);
void close_chatml_turn(PromptBuilder& out);
// The end of a ChatML prompt: the assistant turn opened when add_generation_prompt, the
// vision counts recorded; returns the prompt.
RenderedPrompt finish_chatml_prompt(const ChatOptions& options, const VisionCounters& counters,
                                    PromptBuilder& out);

}  // namespace kantu::text
