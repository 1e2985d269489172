// kantu serve: the OpenAI-compatible HTTP API and the upload-and-ask page.
// Prints one JSON line per life event on stdout ({"event":"listening","port":...},
// {"event":"ready"}, {"event":"stopped"}); SIGINT/SIGTERM drain in-flight requests.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/weight_flags.h"
#include "core/error.h"
#include "core/json.h"
#include "core/memory.h"
#include "core/timer.h"
#include "server/engine.h"
#include "server/http_server.h"
#include "server/real_engine.h"

namespace kantu::cli {

namespace {

struct ServeArgs {
  std::string model_dir;
  std::string mmproj;
  std::string host = "127.0.0.1";
  int port = 8080;
  int parallel = 4;
  int threads = 0;
  WeightFlags weights;
  int max_queue = 16;
  int max_body_mb = 20;
  int64_t max_context = 4096;
  int cache_mb = 256;
  int64_t kv_cache_mb = -1;  // -1: RealEngineOptions' default
  bool warmup = false;
  bool chunked_prefill = true;
  bool allow_remote_images = false;
  int64_t max_memory_mb = 0;  // 0: what the machine has now, less a margin
};

// How long a request may wait for memory before it gets 503 + Retry-After.
constexpr std::chrono::seconds kMemoryWait{20};

// --max-memory-mb, or by default what this process could use now less a margin (a
// tenth, at least 256 MiB) for everything the plan does not see.
std::shared_ptr<server::MemoryBudget> memory_budget(const ServeArgs& a, Json& described) {
  int64_t mb = a.max_memory_mb;
  described = {{"source", "--max-memory-mb"}};
  if (mb == 0) {
    const AvailableMemory avail = available_memory();
    if (avail.mb < 0) fail(ErrorKind::kUnsupported, "serve: cannot tell how much memory there is; give --max-memory-mb");
    mb = static_cast<int64_t>(avail.mb - std::max(256.0, avail.mb / 10));
    described = {{"source", avail.source}, {"available_mb", static_cast<int64_t>(avail.mb)}};
    if (mb < 64) fail(ErrorKind::kTooLarge, "serve: only ", static_cast<int64_t>(avail.mb), " MiB of memory are available (",
                      avail.source, ")");
  }
  return std::make_shared<server::MemoryBudget>(static_cast<size_t>(mb) << 20, kMemoryWait);
}

void print_event(const Json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

std::unique_ptr<server::Engine> load_engine(const ServeArgs& a, std::shared_ptr<server::MemoryBudget> memory) {
  server::RealEngineOptions o;
  o.threads = a.threads;
  o.weights = weight_options(a.weights);
  o.context_length = a.max_context;
  o.cache_bytes = static_cast<size_t>(a.cache_mb) << 20;
  if (a.kv_cache_mb >= 0) o.kv_cache_bytes = static_cast<size_t>(a.kv_cache_mb) << 20;
  o.prefill_chunk_steps = a.chunked_prefill ? o.prefill_chunk_steps : 0;
  o.mmproj = a.mmproj;
  o.memory = std::move(memory);
  return server::load_real_engine(a.model_dir, o);
}

// One tiny text request through the whole engine, so the first user does not pay
// for page faults of the mapped weights and first-touch allocations.
void warm_up(server::Engine& engine) {
  server::ChatRequest req;
  req.messages.push_back({"user", {{server::ContentPart::Kind::kText, "Hi", 0}}});
  req.params.max_tokens = 2;
  req.params.sampling.temperature = 0;
  Timer t;
  auto seq = engine.prepare(req);
  while (!seq->finished()) seq->step();
  print_event({{"event", "warmup"}, {"ms", t.ms()}});
}

void serve(const ServeArgs& a) {
  // Signals are taken by sigtimedwait below, never by a handler: block them before
  // any thread starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a vanished client is a failed write, not a dead server

  server::ServerOptions options;
  options.host = a.host;
  options.port = a.port;
  options.scheduler.parallel = a.parallel;
  options.scheduler.max_queue = a.max_queue;
  options.max_body_bytes = static_cast<size_t>(a.max_body_mb) << 20;
  options.allow_remote_images = a.allow_remote_images;
  Json memory_source;
  options.memory = memory_budget(a, memory_source);
  server::HttpServer http(options);
  int port = http.bind();
  print_event({{"event", "listening"}, {"host", a.host}, {"port", port}});
  std::thread runner([&] { http.run(); });

  std::unique_ptr<server::Engine> engine;
  try {
    engine = load_engine(a, options.memory);
    if (a.warmup) warm_up(*engine);
  } catch (...) {
    http.stop();
    runner.join();
    throw;
  }
  http.set_engine(engine.get());
  Json plan = {{"limit_mb", options.memory->limit() >> 20}, {"for_requests_mb", (options.memory->limit() - options.memory->fixed()) >> 20}};
  plan.update(memory_source);
  for (const auto& [what, bytes] : options.memory->fixed_parts()) plan["fixed_mb"][what] = bytes >> 20;
  print_event({{"event", "ready"}, {"model", engine->model_id()}, {"memory", plan}});

  for (;;) {
    timespec tick{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) break;
  }
  print_event({{"event", "draining"}});
  http.drain(/*timeout_s=*/120);
  http.stop();
  runner.join();
  print_event({{"event", "stopped"}});
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP API and web page");
  add_model_options(cmd, "-m,--model", &args->model_dir, &args->mmproj,
                    "model folder (Hugging Face layout) or GGUF model file")->required();
  cmd->add_option("--host", args->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", args->port, "port (0 = any free port)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--parallel", args->parallel, "sequences generated at once")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--threads", args->threads, "compute threads (0 = one per core)")
      ->check(CLI::Range(0, 1024))->capture_default_str();
  add_weight_flags(cmd, &args->weights);
  cmd->add_option("--max-queue", args->max_queue, "requests waiting beyond --parallel (then 503)")
      ->check(CLI::Range(0, 4096))->capture_default_str();
  cmd->add_option("--max-body-mb", args->max_body_mb, "largest request body in MiB")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--max-context", args->max_context, "context length per sequence (tokens)")
      ->check(CLI::Range(16, 1 << 20))->capture_default_str();
  cmd->add_option("--cache-mb", args->cache_mb, "image-embedding cache size in MiB")
      ->check(CLI::Range(0, 1 << 16))->capture_default_str();
  cmd->add_option("--kv-cache-mb", args->kv_cache_mb,
                  "prefix KV cache in MiB: earlier requests' keys and values, so a conversation's "
                  "next turn (same system prompt, same image, the turns so far) prefills only what "
                  "is new; 0 = off (default: a quarter of what --max-memory-mb leaves for "
                  "requests, at most 1024)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->add_option("--chunked-prefill", args->chunked_prefill,
                  "prefill a new prompt in chunks between the decode steps of running streams")
      ->capture_default_str();
  cmd->add_option("--max-memory-mb", args->max_memory_mb,
                  "memory the server plans within: weights, buffers, caches and every request's "
                  "images and KV cache; a request that does not fit waits, then gets 503 (0 = what "
                  "the machine or cgroup has available at start, less a tenth)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))->capture_default_str();
  cmd->add_flag("--warmup", args->warmup, "run one tiny request before serving");
  cmd->add_flag("--allow-remote-images", args->allow_remote_images,
                "fetch http(s) image URLs (public addresses only, size and time capped)");
  cmd->callback([args] { serve(*args); });
}

}  // namespace kantu::cli
