// Qwen2-VL's and Qwen2.5-VL's chat template (the same text in both families'
// chat_template.json), rendered natively; tested byte for byte against the reference
// goldens. What it does, statement by statement:
//  - the first message, when it is not a system message, is preceded by the default
//    system turn "You are a helpful assistant.";
//  - every message is "<|im_start|>{role}\n" + content + "<|im_end|>\n", the role written
//    as given;
//  - string content verbatim; a content list renders images and videos as vision
//    placeholders (optionally "Picture N: " / "Video N: ", numbered across the whole
//    conversation) and text items verbatim, in every role;
//  - tools and tool calls are not part of this template: they render nothing.
#include "core/error.h"
#include "text/chat.h"
#include "text/prompt_builder.h"

namespace kantu::text {

namespace {

constexpr const char* kDefaultSystem = "You are a helpful assistant.";

class Qwen2VLChatFormat final : public ChatFormat {
 public:
  std::string name() const override { return "qwen2-vl"; }

  RenderedPrompt render(const std::vector<Message>& messages,
                        const ChatOptions& options) const override {
    if (messages.empty()) fail(ErrorKind::kInvalidArgument, "chat: no messages");
    PromptBuilder out;
    VisionCounters counters;
    for (size_t i = 0; i < messages.size(); ++i) {
      const Message& m = messages[i];
      if (i == 0 && m.role != "system") {
        open_chatml_turn("system", out);
        out.text(kDefaultSystem);
        close_chatml_turn(out);
      }
      open_chatml_turn(m.role, out);
      render_content(m, options, counters, out);
      close_chatml_turn(out);
    }
    return finish_chatml_prompt(options, counters, out);
  }
};

}  // namespace

bool is_qwen2vl_chat_template(const std::string& t) {
  // Markers of the Qwen2-VL template: ChatML turns, vision placeholders with
  // add_vision_id, the injected default system prompt, and no tool support.
  return t.find("<|im_start|>") != std::string::npos &&
         t.find("<|vision_start|><|image_pad|><|vision_end|>") != std::string::npos &&
         t.find("add_vision_id") != std::string::npos &&
         t.find("You are a helpful assistant.") != std::string::npos &&
         t.find("<tool_call>") == std::string::npos;
}

std::unique_ptr<ChatFormat> make_qwen2vl_chat_format() {
  return std::make_unique<Qwen2VLChatFormat>();
}

}  // namespace kantu::text
