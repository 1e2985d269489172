// The llava-hf chat templates, rendered natively (tested byte for byte against the
// reference goldens). Both render every image of a message before its texts, whatever the
// order of the parts, as the templates do.
//
// LLaVA-1.5 and LLaVA-NeXT (1.6) vicuna, statement by statement:
//   for each message: "ROLE: " unless the role is system (role.upper(): any role), then
//   "<image>\n" per image part, then each text part + " "; at the end "ASSISTANT:" with the
//   generation prompt. A system message thus renders its text with no prefix.
// LLaVA-NeXT (1.6) mistral:
//   system: "<<SYS>>\n" + first part's text + "\n<</SYS>>\n\n"; user: "[INST] ", the images,
//   the texts joined as they are, " [/INST]"; assistant: " " + first part's text + the
//   template's end marker + " " ("</s>", or "<\s>" in the first published template); other
//   roles are an error, as the template raises. No generation prompt.
// Message content given as a plain string counts as one text part. The templates test
// parts by type == "image"/"text"; here every image part (image, image_url) is an image, so
// OpenAI-style requests render as the model expects.
#include "core/error.h"
#include "text/chat.h"
#include "text/prompt_builder.h"

namespace kantu::text {

namespace {

constexpr const char* kImageToken = "<image>";

std::vector<std::string> texts_of(const Message& m) {
  if (m.content_is_string) return {m.content_text};
  std::vector<std::string> out;
  for (const ContentPart& part : m.parts) {
    if (part.kind == ContentPart::Kind::kText) out.push_back(*part.text);
  }
  return out;
}

int images_of(const Message& m, PromptBuilder& out) {
  int n = 0;
  if (m.content_is_string) return n;
  for (const ContentPart& part : m.parts) {
    if (part.kind != ContentPart::Kind::kImage) continue;
    out.image(kImageToken);
    out.text("\n");
    ++n;
  }
  return n;
}

// message['content'][0]['text'] as the mistral template reads it.
std::string first_text(const Message& m, size_t index) {
  if (m.content_is_string) return m.content_text;
  if (m.parts.empty() || !m.parts[0].text) {
    fail(ErrorKind::kInvalidArgument, "chat: message ", index, " (", m.role,
         ") must start with a text part for this template");
  }
  return *m.parts[0].text;
}

std::string replace_escape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out.push_back('\n');
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

class LlavaVicunaChatFormat final : public ChatFormat {
 public:
  std::string name() const override { return "llava"; }

  RenderedPrompt render(const std::vector<Message>& messages,
                        const ChatOptions& options) const override {
    if (messages.empty()) fail(ErrorKind::kInvalidArgument, "chat: no messages");
    PromptBuilder out;
    int images = 0;
    for (const Message& m : messages) {
      if (m.role != "system") out.text(upper(m.role) + ": ");
      images += images_of(m, out);
      for (const std::string& t : texts_of(m)) out.text(t + " ");
    }
    if (options.add_generation_prompt) out.text("ASSISTANT:");
    out.prompt().image_count = images;
    return std::move(out.prompt());
  }
};

class LlavaMistralChatFormat final : public ChatFormat {
 public:
  explicit LlavaMistralChatFormat(std::string end_marker) : end_marker_(std::move(end_marker)) {}
  std::string name() const override { return "llava-mistral"; }

  RenderedPrompt render(const std::vector<Message>& messages, const ChatOptions&) const override {
    if (messages.empty()) fail(ErrorKind::kInvalidArgument, "chat: no messages");
    PromptBuilder out;
    int images = 0;
    for (size_t i = 0; i < messages.size(); ++i) {
      const Message& m = messages[i];
      if (m.role == "system") {
        out.text("<<SYS>>\n" + first_text(m, i) + "\n<</SYS>>\n\n");
      } else if (m.role == "user") {
        out.text("[INST] ");
        images += images_of(m, out);
        for (const std::string& t : texts_of(m)) out.text(t);
        out.text(" [/INST]");
      } else if (m.role == "assistant") {
        out.text(" " + first_text(m, i));
        if (end_marker_ == "</s>") {
          out.control(end_marker_);
        } else {
          out.text(end_marker_);
        }
        out.text(" ");
      } else {
        fail(ErrorKind::kInvalidArgument, "chat: message ", i, " has role '", m.role,
             "'; this template supports only user and assistant roles");
      }
    }
    out.prompt().image_count = images;
    return std::move(out.prompt());
  }

 private:
  std::string end_marker_;
};

bool has(const std::string& s, std::string_view needle) { return s.find(needle) != std::string::npos; }

// A template string with "\n" in it, written either as a newline or as the escape.
bool has_with_newline(const std::string& s, std::string_view with_escape) {
  return has(s, with_escape) || has(s, replace_escape(with_escape));
}

}  // namespace

std::unique_ptr<ChatFormat> make_llava_chat_format(const std::string& t) {
  const bool images_first = has(t, "selectattr('type', 'equalto', 'image')") &&
                            has_with_newline(t, "{{ '<image>\\n' }}");
  if (!images_first) return nullptr;
  if (has(t, "message['role'].upper() + ': '") && has(t, "{{ content['text'] + ' '}}") &&
      has(t, "{{ 'ASSISTANT:' }}")) {
    return std::make_unique<LlavaVicunaChatFormat>();
  }
  if (has(t, "{{ '[INST] ' }}") && has(t, "{{' [/INST]' }}") && has_with_newline(t, "'<<SYS>>\\n'")) {
    // The end marker the template appends to assistant turns: '</s> ' or '<\\s> '.
    const char* key = "' ' + message['content'][0]['text'] + '";
    const size_t at = t.find(key);
    if (at == std::string::npos) return nullptr;
    const size_t begin = at + std::string_view(key).size();
    const size_t end = t.find(" '", begin);
    if (end == std::string::npos) return nullptr;
    std::string marker = t.substr(begin, end - begin);
    if (marker == "<\\\\s>") marker = "<\\s>";  // Jinja keeps the unknown escape \s as it is
    if (marker != "</s>" && marker != "<\\s>") return nullptr;
    return std::make_unique<LlavaMistralChatFormat>(marker);
  }
  return nullptr;
}

}  // namespace kantu::text
