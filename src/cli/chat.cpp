// kantu chat: a multi-turn conversation about pictures in the terminal. Each question is
// sent with the whole conversation so far (so the runtime's prefix cache reuses the KV of
// the earlier turns); answers stream to stdout. Lines starting with '/' are commands.
// With stdin not a terminal, every line is one turn: `printf 'q1\nq2\n' | kantu chat ...`.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/conversation.h"
#include "cli/generation_flags.h"
#include "cli/line_reader.h"
#include "core/error.h"
#include "runtime/generation_report.h"

namespace kantu::cli {

namespace {

struct ChatArgs {
  GenerationFlags gen;
  std::vector<std::string> images;
  bool verbose = false;
};

constexpr const char* kChatHelp =
    "  /image PATH   add a picture to your next question\n"
    "  /reset        start over (the --image files go with the next question again)\n"
    "  /save FILE    write the conversation as OpenAI-style messages JSON\n"
    "  /help         this list\n"
    "  /quit         leave (so does Ctrl-D); Ctrl-C stops an answer\n";

// On a terminal, Ctrl-C stops the answer being written, not the chat (at the prompt,
// libedit's readline then returns end of input: the chat leaves, as with Ctrl-D). The flag
// is cleared when a question is asked.
std::atomic<bool> g_stop_answer{false};
void on_chat_interrupt(int) { g_stop_answer.store(true); }

class InterruptStopsAnswer {
 public:
  InterruptStopsAnswer() {
    struct sigaction sa {};
    sa.sa_handler = on_chat_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous_);
  }
  ~InterruptStopsAnswer() { sigaction(SIGINT, &previous_, nullptr); }

 private:
  struct sigaction previous_ {};
};

// "turn 2: 180 prompt tokens (150 cached) + 12 new (stop) | ttft 35.1 ms | prefill ... "
void print_turn_stats(int turn, const runtime::GenerationResult& r) {
  const Json t = runtime::timings_json(r.timings);
  std::string cached;
  if (t.contains("cached_tokens")) cached = " (" + t["cached_tokens"].dump() + " cached)";
  std::fprintf(stderr,
               "kantu: turn %d: %lld prompt tokens%s + %lld new (%s) | image %.1f ms | prefill "
               "%.1f ms | ttft %.1f ms | decode %.1f tok/s\n",
               turn, static_cast<long long>(r.timings.prompt_tokens), cached.c_str(),
               static_cast<long long>(r.timings.generated_tokens),
               runtime::finish_reason_name(r.finish_reason), r.timings.image_ms,
               r.timings.prefill_ms, r.timings.ttft_ms, r.timings.decode_tok_s);
}

std::string trimmed(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") + 1 - begin);
}

// One command line ("/image x.png"); false for /quit.
bool run_command(const std::string& line, Conversation& chat) {
  const size_t space = line.find_first_of(" \t");
  const std::string name = line.substr(0, space);
  const std::string arg = space == std::string::npos ? "" : trimmed(line.substr(space));
  if (name == "/quit" || name == "/exit") return false;
  if (name == "/help") {
    std::fputs(kChatHelp, stderr);
  } else if (name == "/reset") {
    chat.reset();
    std::fprintf(stderr, "kantu: conversation cleared\n");
  } else if (name == "/image" || name == "/save") {
    if (arg.empty()) fail(ErrorKind::kInvalidArgument, name, " needs a file: ", name, " PATH");
    if (name == "/image") {
      chat.add_image(arg);
      std::fprintf(stderr, "kantu: %s goes with your next question\n", arg.c_str());
    } else {
      chat.save(arg);
      std::fprintf(stderr, "kantu: saved %zu messages to %s\n", chat.messages().size(), arg.c_str());
    }
  } else {
    fail(ErrorKind::kInvalidArgument, "unknown command ", name, " (/help lists them)");
  }
  return true;
}

void chat_loop(const ChatArgs& a) {
  Conversation chat(a.images);  // bad --image files stop here, before the model loads
  auto engine = load_runtime_engine(a.gen);
  runtime::GenerateRequest request;
  request.options = loop_options(a.gen, engine->defaults());
  request.max_context = a.gen.max_context;

  LineReader reader;
  if (reader.interactive())
    std::fprintf(stderr, "kantu chat: %s\nAsk a question; /help lists the commands, Ctrl-D leaves.\n",
                 engine->model_dir().c_str());
  std::unique_ptr<InterruptStopsAnswer> interrupt;
  if (reader.interactive()) interrupt = std::make_unique<InterruptStopsAnswer>();
  int turn = 0;
  while (const std::optional<std::string> read = reader.read("> ")) {
    g_stop_answer.store(false);
    const std::string line = trimmed(*read);
    if (line.empty()) continue;
    bool asked = false;
    try {
      if (line[0] == '/') {
        if (!run_command(line, chat)) break;
        continue;
      }
      request.messages = chat.ask(line);
      asked = true;
      const runtime::GenerationResult r =
          engine->generate(request, [](std::string_view piece) {
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
            return !g_stop_answer.load();
          }).result;
      std::printf("\n");
      std::fflush(stdout);
      chat.answered(r.text);
      ++turn;
      if (a.verbose) print_turn_stats(turn, r);
    } catch (const Error& e) {
      // A failed turn is forgotten (its pictures wait for the next question); the chat goes on.
      if (asked) chat.drop_question();
      std::fprintf(stderr, "kantu: error: %s\n", e.what());
    }
  }
}

}  // namespace

void add_chat_command(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  auto* cmd = app.add_subcommand("chat", "Talk about pictures in the terminal, turn after turn");
  add_generation_flags(cmd, &a->gen);
  cmd->add_option("--image", a->images, "Image file for the first question (repeat for several)");
  cmd->add_flag("-v,--verbose", a->verbose,
                "After each answer, print the turn's figures on stderr (prompt and cached tokens, "
                "time to first token, decode speed)");
  cmd->callback([a] { chat_loop(*a); });
}

}  // namespace kantu::cli
