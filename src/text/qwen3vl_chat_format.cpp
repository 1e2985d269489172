// Qwen3-VL's chat template, rendered natively. Mirrors the model's chat_template.json
// statement by statement (see the comments); tested byte for byte against the reference
// goldens. Behaviours of the template kept on purpose:
//  - no default system prompt; a system message counts only as messages[0] (a later one
//    renders nothing, as in the template);
//  - consecutive tool messages share one "<|im_start|>user" turn;
//  - "Picture N: " / "Video N: " numbering runs across the whole conversation.
#include <cstdio>

#include "core/error.h"
#include "text/chat.h"
#include "text/prompt_builder.h"

namespace kantu::text {

namespace {

constexpr const char* kImStart = "<|im_start|>";
constexpr const char* kToolCall = "<tool_call>";
constexpr const char* kToolCallEnd = "</tool_call>";
constexpr const char* kToolResponse = "<tool_response>";
constexpr const char* kToolResponseEnd = "</tool_response>";

class Qwen3VLChatFormat final : public ChatFormat {
 public:
  std::string name() const override { return "qwen3-vl"; }

  RenderedPrompt render(const std::vector<Message>& messages,
                        const ChatOptions& options) const override {
    if (messages.empty()) fail(ErrorKind::kInvalidArgument, "chat: no messages");
    PromptBuilder out;
    const bool first_is_system = messages[0].role == "system";
    if (!options.tools.empty()) {
      open_chatml_turn("system", out);
      if (first_is_system) {
        system_text(messages[0], out);
        out.text("\n\n");
      }
      out.text(
          "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou "
          "are provided with function signatures within <tools></tools> XML tags:\n<tools>");
      for (const std::string& tool : options.tools) {
        out.text("\n");
        out.text(tool);
      }
      out.text(
          "\n</tools>\n\nFor each function call, return a json object with function name and "
          "arguments within ");
      out.control(kToolCall);
      out.control(kToolCallEnd);
      out.text(" XML tags:\n");
      out.control(kToolCall);
      out.text("\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n");
      out.control(kToolCallEnd);
      close_chatml_turn(out);
    } else if (first_is_system) {
      open_chatml_turn("system", out);
      system_text(messages[0], out);
      close_chatml_turn(out);
    }
    VisionCounters counters;
    for (size_t i = 0; i < messages.size(); ++i) {
      const Message& m = messages[i];
      if (m.role == "user") {
        open_chatml_turn("user", out);
        render_content(m, options, counters, out);
        close_chatml_turn(out);
      } else if (m.role == "assistant") {
        open_chatml_turn("assistant", out);
        if (m.content_is_string) {
          out.text(m.content_text);
        } else {
          for (const ContentPart& part : m.parts) {
            if (part.text) out.text(*part.text);
          }
        }
        for (size_t k = 0; k < m.tool_calls.size(); ++k) {
          if ((k == 0 && m.has_content()) || k > 0) out.text("\n");
          out.control(kToolCall);
          out.text("\n{\"name\": \"");
          out.text(m.tool_calls[k].name);
          out.text("\", \"arguments\": ");
          out.text(m.tool_calls[k].arguments);
          out.text("}\n");
          out.control(kToolCallEnd);
        }
        close_chatml_turn(out);
      } else if (m.role == "tool") {
        if (i == 0 || messages[i - 1].role != "tool") {
          out.control(kImStart);
          out.text("user");
        }
        out.text("\n");
        out.control(kToolResponse);
        out.text("\n");
        render_content(m, options, counters, out);
        out.text("\n");
        out.control(kToolResponseEnd);
        if (i + 1 == messages.size() || messages[i + 1].role != "tool") close_chatml_turn(out);
      } else if (m.role != "system") {
        fail(ErrorKind::kInvalidArgument, "chat: message ", i, " has unsupported role '", m.role,
             "'");
      }
    }
    return finish_chatml_prompt(options, counters, out);
  }

 private:
  // System content: a string, or the "text" of every item that has one.
  static void system_text(const Message& m, PromptBuilder& out) {
    if (m.content_is_string) {
      out.text(m.content_text);
      return;
    }
    for (const ContentPart& part : m.parts) {
      if (part.text) out.text(*part.text);
    }
  }
};

}  // namespace

bool is_qwen3vl_chat_template(const std::string& t) {
  // Markers of the Qwen3-VL template: ChatML turns, vision placeholders with add_vision_id,
  // tool responses folded into user turns, and no injected default system prompt.
  return t.find("<|im_start|>") != std::string::npos &&
         t.find("<|vision_start|><|image_pad|><|vision_end|>") != std::string::npos &&
         t.find("add_vision_id") != std::string::npos &&
         t.find("<tool_response>") != std::string::npos &&
         t.find("You are a helpful assistant") == std::string::npos;
}

std::string RenderedPrompt::text() const {
  std::string s;
  for (const PromptPiece& p : pieces) {
    for (int64_t k = 0; k < (p.control ? p.repeat : 1); ++k) s.append(p.text);
  }
  return s;
}

std::unique_ptr<ChatFormat> make_qwen3vl_chat_format() {
  return std::make_unique<Qwen3VLChatFormat>();
}

}  // namespace kantu::text
