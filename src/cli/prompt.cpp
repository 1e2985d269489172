// kantu prompt -m DIR --messages F.json [--image-tokens N,N,...]
//   -> {"prompt": "<rendered chat template>", "ids": [...]}
// F.json is a list of messages (OpenAI shape), or {"messages": [...], "tools": [...]}.
// Each image's <|image_pad|> is expanded to its token count: from --image-tokens when
// given; otherwise, for an image part with a source (a path, file:// or data: URL), from
// decoding the image and the model's image processor (its family's settings). A bare
// {"type": "image"} without --image-tokens keeps the template's single <|image_pad|>.
#include <algorithm>
#include <iostream>
#include <span>
#include <optional>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/model_folder.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "models/model.h"
#include "server/chat_request.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"

namespace kantu::cli {

namespace {

struct PromptOptions {
  std::string model_dir;
  std::string messages_path;
  std::optional<std::string> image_tokens;
  bool no_generation_prompt = false;
  bool add_vision_id = false;
};

std::vector<int64_t> parse_counts(const std::string& list) {
  std::vector<int64_t> counts;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(pos, end - pos);
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 1) {
      fail(ErrorKind::kInvalidArgument, "--image-tokens: '", item,
           "' is not a positive token count (expected e.g. 64,256)");
    }
    counts.push_back(value);
    pos = end + 1;
  }
  return counts;
}

// The image parts in the order the template counts them (user and tool turns).
std::vector<const text::ContentPart*> image_parts(const std::vector<text::Message>& messages) {
  std::vector<const text::ContentPart*> parts;
  for (const text::Message& m : messages) {
    if (m.role != "user" && m.role != "tool") continue;
    for (const text::ContentPart& part : m.parts) {
      if (part.kind == text::ContentPart::Kind::kImage) parts.push_back(&part);
    }
  }
  return parts;
}

RgbImage decode_image_source(const std::string& source) {
  if (source.rfind("data:", 0) == 0) {
    const std::string bytes = server::decode_image_data_url(source, "image data: URL");
    return decode_image(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                        {}, "image data: URL");
  }
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    fail(ErrorKind::kUnsupported, "image ", source,
         ": remote images are not fetched; pass a path or --image-tokens");
  }
  const std::string path = source.rfind("file://", 0) == 0 ? source.substr(7) : source;
  return decode_image_file(path);
}

// Visual tokens of each image: from the source when it has one, else 1 (stays single).
std::vector<int64_t> image_tokens_from_sources(const std::vector<text::Message>& messages,
                                               const ImagePreprocessConfig& config) {
  const auto parts = image_parts(messages);
  const bool any_source = std::any_of(parts.begin(), parts.end(),
                                      [](const text::ContentPart* p) { return !p->image.empty(); });
  if (!any_source) return {};
  std::vector<int64_t> counts;
  for (const text::ContentPart* part : parts) {
    if (part->image.empty()) {
      counts.push_back(1);
      continue;
    }
    const RgbImage image = decode_image_source(part->image);
    counts.push_back(image_token_count(image.height, image.width, config));
  }
  return counts;
}

void run_prompt(const PromptOptions& o) {
  const text::ChatRequest request =
      text::parse_chat_request(read_file(o.messages_path), o.messages_path);
  const ModelFolder model = ModelFolder::open_any(o.model_dir, "", {.load_weights = false});
  const models::ModelProfile profile = models::profile_of(model);
  const text::ChatFormat& format = profile.chat_format();
  const text::Tokenizer tokenizer = text::Tokenizer::load(model);
  text::ChatOptions options;
  options.add_generation_prompt = !o.no_generation_prompt;
  options.add_vision_id = o.add_vision_id;
  options.tools = request.tools;
  const text::RenderedPrompt prompt = format.render(request.messages, options);
  text::VisionTokenCounts counts;
  counts.image_tokens = o.image_tokens ? parse_counts(*o.image_tokens)
                                       : image_tokens_from_sources(request.messages, profile.image);
  const text::RenderedPrompt expanded = text::expand_vision_tokens(prompt, counts);
  nlohmann::ordered_json out;
  out["prompt"] = prompt.text();
  out["ids"] = text::prompt_token_ids(tokenizer, expanded);
  std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace

void add_prompt_command(CLI::App& app) {
  auto opts = std::make_shared<PromptOptions>();
  auto* cmd = app.add_subcommand("prompt", "Render chat messages with the model's chat format");
  add_model_options(cmd, "-m,--model", &opts->model_dir, nullptr, "Model folder or GGUF model file")->required();
  cmd->add_option("--messages", opts->messages_path, "JSON file with the list of messages")
      ->required();
  cmd->add_option("--image-tokens", opts->image_tokens,
                  "Comma-separated image token count per image, in order");
  cmd->add_flag("--no-generation-prompt", opts->no_generation_prompt,
                "Do not end with the assistant turn's generation prompt");
  cmd->add_flag("--add-vision-id", opts->add_vision_id, "Label images 'Picture N: '");
  cmd->callback([opts] { run_prompt(*opts); });
}

}  // namespace kantu::cli
