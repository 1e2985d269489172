// Chat messages and the chat format that turns them into a prompt.
//
// Decision: kantu renders chat templates NATIVELY, not by interpreting Jinja. Each model
// family's template is one ChatFormat implementation, written to produce byte-for-byte what
// the model's own chat_template.json renders (Qwen3-VL: text/qwen3vl_chat_format.cpp, tested
// against the reference goldens). Why: the Qwen3-VL template uses a sizeable Jinja subset
// (namespaces, loop.first/last/index0, `in` on dicts, `is string`, filters, whitespace
// control); a partial interpreter would be riskier than a direct, fully tested rendering,
// and a native format also knows which strings are control tokens, so user text can never
// turn into one. A Jinja interpreter can later be added as another ChatFormat.
//
// A rendered prompt is a list of pieces: control tokens emitted by the template (looked up
// as ids, never re-parsed from text) and text (template text and message content), so
// tokenization can keep user content away from special tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kantu {
class ModelFolder;
}  // namespace kantu

namespace kantu::text {

// One item of a message's content list, classified the way the template tests it:
// image if type=="image" or it has an "image"/"image_url" key; else video if type=="video"
// or it has a "video" key; else text if it has a "text" key; else it renders nothing.
struct ContentPart {
  enum class Kind { kText, kImage, kVideo, kOther };
  Kind kind = Kind::kOther;
  std::optional<std::string> text;        // the "text" key, when present
  std::string image;                      // kImage: path, file:// or data: URL; "" = bare
  std::vector<std::string> video_frames;  // kVideo: frame paths (or one video path)
};

struct ToolCall {
  std::string name;
  std::string arguments;  // rendered form: the string as given, or the object as tojson
};

struct Message {
  std::string role;  // "system", "user", "assistant" or "tool"
  bool content_is_string = false;
  std::string content_text;         // when content_is_string
  std::vector<ContentPart> parts;   // otherwise (empty when content was absent or null)
  std::vector<ToolCall> tool_calls;  // assistant only

  // Jinja truthiness of message.content: a non-empty string or a non-empty list.
  bool has_content() const { return content_is_string ? !content_text.empty() : !parts.empty(); }
};

struct ChatOptions {
  bool add_generation_prompt = true;
  bool add_vision_id = false;       // "Picture N: " / "Video N: " before each item
  std::vector<std::string> tools;   // tool definitions, each already rendered as tojson
};

struct PromptPiece {
  bool control = false;  // an added token emitted by the template, e.g. "<|im_start|>"
  std::string text;
  int64_t repeat = 1;    // control pieces: how many copies (an expanded <|image_pad|>)
  bool image = false;    // a control piece that stands for one image's visual tokens
};

struct RenderedPrompt {
  std::vector<PromptPiece> pieces;
  int image_count = 0;
  int video_count = 0;
  // The prompt as one string (what the Jinja template returns; after expansion, what the
  // reference processor's expanded text is).
  std::string text() const;
};

class ChatFormat {
 public:
  virtual ~ChatFormat() = default;
  virtual std::string name() const = 0;
  // Throws Error(kInvalidArgument) for messages the template cannot render.
  virtual RenderedPrompt render(const std::vector<Message>& messages,
                                const ChatOptions& options) const = 0;
};

std::unique_ptr<ChatFormat> make_qwen3vl_chat_format();
// True when a Jinja chat template has the markers of Qwen3-VL's (see the .cpp).
bool is_qwen3vl_chat_template(const std::string& jinja);
std::unique_ptr<ChatFormat> make_qwen2vl_chat_format();
// True for the template of Qwen2-VL and Qwen2.5-VL (default system prompt, no tools).
bool is_qwen2vl_chat_template(const std::string& jinja);

// The native format that renders a Jinja template, or null when none does.
std::unique_ptr<ChatFormat> chat_format_for_template(const std::string& jinja);
// The llava-hf templates (text/llava_chat_formats.cpp): LLaVA-1.5 / 1.6-vicuna
// ("USER: <image>\n... ASSISTANT:") and 1.6-mistral ("[INST] <image>\n... [/INST]"),
// or nullptr when the template is neither.
std::unique_ptr<ChatFormat> make_llava_chat_format(const std::string& jinja);

// The chat format for a model folder: reads its chat_template.json (or the chat_template
// in tokenizer_config.json) and picks the native format that renders it. A template no
// native format recognizes is Error(kUnsupported) naming the file.
std::unique_ptr<ChatFormat> load_chat_format(const std::string& model_dir);
// The chat format of an opened model: its folder's files, or a GGUF tokenizer.chat_template.
std::unique_ptr<ChatFormat> load_chat_format(const ModelFolder& model);

}  // namespace kantu::text
