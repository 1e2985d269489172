// kantu run: answer one prompt (text, images, or a chat messages file) with a model.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/generation_flags.h"
#include "runtime/generation_report.h"
#include "core/error.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "runtime/generate.h"
#include "text/chat_messages.h"

namespace kantu::cli {

namespace {

struct RunArgs {
  GenerationFlags gen;
  std::vector<std::string> images;
  std::string prompt;
  std::string messages;
  bool json = false;
  std::string dump_logits;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kNotFound, "cannot open ", path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// -p/--image as one user message (images first, then the text), or the messages file
// with its bare image parts filled from --image in order.
text::ChatRequest build_request(const RunArgs& a) {
  text::ChatRequest request;
  if (!a.messages.empty()) {
    request = text::parse_chat_request(read_text(a.messages), a.messages);
    size_t next = 0;
    for (text::Message& m : request.messages)
      for (text::ContentPart& p : m.parts)
        if (p.kind == text::ContentPart::Kind::kImage && p.image.empty() && next < a.images.size())
          p.image = a.images[next++];
    if (next != a.images.size())
      fail(ErrorKind::kInvalidArgument, a.messages, " has ", next,
           " image parts without a source but ", a.images.size(), " --image files were given");
    return request;
  }
  text::Message user;
  user.role = "user";
  for (const std::string& path : a.images) {
    text::ContentPart part;
    part.kind = text::ContentPart::Kind::kImage;
    part.image = path;
    user.parts.push_back(part);
  }
  text::ContentPart prompt;
  prompt.kind = text::ContentPart::Kind::kText;
  prompt.text = a.prompt;
  user.parts.push_back(prompt);
  request.messages.push_back(std::move(user));
  return request;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Answer a prompt about images (streams the answer)");
  add_generation_flags(cmd, &a->gen);
  cmd->add_option("--image", a->images, "Image file (repeat for several)");
  auto* prompt = cmd->add_option("-p,--prompt", a->prompt, "The question / instruction");
  auto* messages = cmd->add_option("--messages", a->messages,
                                   "Chat messages JSON file (same format as `kantu prompt`)");
  prompt->excludes(messages);
  cmd->add_flag("--json", a->json, "Print one JSON object instead of streaming");
  cmd->add_option("--dump-logits", a->dump_logits,
                  "Write the prefill logits of every prompt position (safetensors, f32 [n, vocab])");

  cmd->callback([=] {
    if (a->prompt.empty() && a->messages.empty())
      fail(ErrorKind::kInvalidArgument, "run needs -p PROMPT or --messages FILE");
    const text::ChatRequest chat = build_request(*a);
    auto engine = load_runtime_engine(a->gen);
    runtime::GenerateRequest request;
    request.messages = chat.messages;
    request.tools = chat.tools;
    request.options = loop_options(a->gen, engine->defaults());
    request.max_context = a->gen.max_context;
    std::vector<float> logits;
    if (!a->dump_logits.empty()) request.prompt_logits = &logits;

    runtime::PieceCallback stream;
    if (!a->json)
      stream = [](std::string_view piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
      };
    const runtime::GenerateOutput out = engine->generate(request, stream);
    const runtime::GenerationResult& r = out.result;

    if (!a->dump_logits.empty()) {
      const int64_t rows = static_cast<int64_t>(out.prompt_ids.size());
      const int64_t vocab = engine->model().vocab_size();
      KANTU_CHECK(static_cast<int64_t>(logits.size()) == rows * vocab, "prefill logits size");
      write_safetensors(a->dump_logits, {{"logits", DType::kF32, {rows, vocab}, logits.data()}});
    }
    if (a->json) {
      Json j = {{"prompt_ids", out.prompt_ids},
                {"ids", r.ids},
                {"text", r.text},
                {"finish_reason", runtime::finish_reason_name(r.finish_reason)},
                {"timings", runtime::timings_json(r.timings)},
                {"peak_rss_mb", r.peak_rss_mb}};
      std::printf("%s\n", j.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    } else {
      std::printf("\n");
    }
    std::fprintf(stderr, "%s\n", runtime::summary_line(r).c_str());
  });
}

}  // namespace kantu::cli
