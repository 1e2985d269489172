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

}  // namespace kantu::text
