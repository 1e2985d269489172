#include "text/prompt_builder.h"

#include "core/error.h"

namespace kantu::text {

void render_parts(const Message& m, const ChatOptions& options, VisionCounters& counters,
                  PromptBuilder& out) {
  for (const ContentPart& part : m.parts) {
    switch (part.kind) {
      case ContentPart::Kind::kImage:
        ++counters.images;
        if (options.add_vision_id) out.text(cat("Picture ", counters.images, ": "));
        out.control("<|vision_start|>");
        out.image("<|image_pad|>");
        out.control("<|vision_end|>");
        break;
      case ContentPart::Kind::kVideo:
        ++counters.videos;
        if (options.add_vision_id) out.text(cat("Video ", counters.videos, ": "));
        out.control("<|vision_start|>");
        out.control("<|video_pad|>");
        out.control("<|vision_end|>");
        break;
      case ContentPart::Kind::kText:
        out.text(*part.text);
        break;
      case ContentPart::Kind::kOther:
        break;
    }
  }
}

void render_content(const Message& m, const ChatOptions& options, VisionCounters& counters,
                    PromptBuilder& out) {
  if (m.content_is_string) {
    out.text(m.content_text);
  } else {
    render_parts(m, options, counters, out);
  }
}

void open_chatml_turn(std::string_view role, PromptBuilder& out) {
  out.control("<|im_start|>");
  out.text(role);
  out.text("\n");
}

void close_chatml_turn(PromptBuilder& out) {
  out.control("<|im_end|>");
  out.text("\n");
}

RenderedPrompt finish_chatml_prompt(const ChatOptions& options, const VisionCounters& counters,
                                    PromptBuilder& out) {
  if (options.add_generation_prompt) open_chatml_turn("assistant", out);
  out.prompt().image_count = counters.images;
  out.prompt().video_count = counters.videos;
  return std::move(out.prompt());
}

}  // namespace kantu::text
