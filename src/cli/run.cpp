// kantu run: answer one prompt (text, images, or a chat messages file) with a model.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/weight_flags.h"
#include "runtime/generation_report.h"
#include "core/error.h"
#include "core/json.h"
#include "formats/safetensors.h"
#include "runtime/generate.h"
#include "text/chat_messages.h"

namespace kantu::cli {

namespace {

struct RunArgs {
  std::string model;
  std::string mmproj;
  std::vector<std::string> images;
  std::string prompt;
  std::string messages;
  int64_t max_new_tokens = 0;
  float temperature = 0, top_p = 0, min_p = 0, repetition_penalty = 0, presence_penalty = 0;
  int top_k = 0;
  uint64_t seed = 0;
  std::vector<std::string> stops;
  WeightFlags weights;
  int threads = 0;
  int64_t max_context = 0;
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
  add_model_options(cmd, "-m,--model", &a->model, &a->mmproj,
                    "Model folder (Hugging Face layout) or GGUF model file")->required();
  cmd->add_option("--image", a->images, "Image file (repeat for several)");
  auto* prompt = cmd->add_option("-p,--prompt", a->prompt, "The question / instruction");
  auto* messages = cmd->add_option("--messages", a->messages,
                                   "Chat messages JSON file (same format as `kantu prompt`)");
  prompt->excludes(messages);
  auto* n = cmd->add_option("-n,--max-new-tokens", a->max_new_tokens, "Tokens to generate at most")
                ->check(CLI::NonNegativeNumber);
  auto* temperature = cmd->add_option("--temperature", a->temperature, "0 = greedy")
                          ->check(CLI::NonNegativeNumber);
  auto* top_k = cmd->add_option("--top-k", a->top_k, "0 = off")->check(CLI::NonNegativeNumber);
  auto* top_p = cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass, (0, 1]");
  auto* min_p = cmd->add_option("--min-p", a->min_p, "Drop tokens below min_p x best, [0, 1]");
  auto* rep = cmd->add_option("--repetition-penalty", a->repetition_penalty, "HF semantics, 1 = off");
  auto* presence = cmd->add_option("--presence-penalty", a->presence_penalty,
                                   "OpenAI semantics, [-2, 2], 0 = off");
  cmd->add_option("--seed", a->seed, "Sampling seed");
  cmd->add_option("--stop", a->stops, "Stop string (repeat for several)");
  cmd->add_option("--threads", a->threads, "Compute threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--max-context", a->max_context, "Context size in tokens (prompt + answer)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", a->json, "Print one JSON object instead of streaming");
  add_weight_flags(cmd, &a->weights);
  cmd->add_option("--dump-logits", a->dump_logits,
                  "Write the prefill logits of every prompt position (safetensors, f32 [n, vocab])");

  cmd->callback([=] {
    if (a->prompt.empty() && a->messages.empty())
      fail(ErrorKind::kInvalidArgument, "run needs -p PROMPT or --messages FILE");
    const text::ChatRequest chat = build_request(*a);
    auto engine =
        runtime::Engine::load(a->model, a->threads, weight_options(a->weights), a->mmproj);
    const runtime::GenerationDefaults& d = engine->defaults();

    runtime::GenerateRequest request;
    request.messages = chat.messages;
    request.tools = chat.tools;
    request.options.sampling = d.sampling;
    request.options.stop_ids = d.stop_ids;
    request.options.max_new_tokens = n->count() ? a->max_new_tokens : d.max_new_tokens;
    request.options.stop_strings = a->stops;
    runtime::SamplingParams& s = request.options.sampling;
    if (temperature->count()) s.temperature = a->temperature;
    if (top_k->count()) s.top_k = a->top_k;
    if (top_p->count()) s.top_p = a->top_p;
    if (min_p->count()) s.min_p = a->min_p;
    if (rep->count()) s.repetition_penalty = a->repetition_penalty;
    if (presence->count()) s.presence_penalty = a->presence_penalty;
    s.seed = a->seed;
    runtime::validate(s);
    request.max_context = a->max_context;
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
