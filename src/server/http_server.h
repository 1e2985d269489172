// The HTTP front of `kantu serve`: routes, validation, SSE streaming, metrics and the
// embedded web page. This file pair (and vision_form.cpp, which reads a parsed multipart
// form) are the only places that know cpp-httplib.
//
// Routes: POST /v1/chat/completions, POST /v1/vision/completion, GET /v1/models,
// GET /health, GET /metrics, GET / (the page) and its static files.
//
// Thread contract: HTTP threads (a pool of parallel + max_queue + 4) parse, validate
// and prepare requests, then wait on their Job; the scheduler's single engine thread
// runs all model work. Handlers never throw: every failure becomes an OpenAI-shaped
// error with its status. A client that disconnects cancels its sequence, streaming or
// not: detected when a chunk or a keep-alive (an SSE comment, or a space before a
// JSON body) cannot be written. A non-streaming answer's status is therefore fixed
// when its first token exists: a failure during decoding is a 200 carrying the error
// object (see respond_when_done in http_server.cpp).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/engine.h"
#include "server/memory_budget.h"
#include "server/scheduler.h"

namespace kantu::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (see bind())
  Scheduler::Options scheduler;
  size_t max_body_bytes = 20u << 20;
  bool allow_remote_images = false;
  int remote_timeout_s = 10;
  // The memory plan (memory_budget.h), shared with the engine: the server reserves the
  // bodies of the requests it may be reading at once and shows the plan in /metrics.
  std::shared_ptr<MemoryBudget> memory;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Until an engine is set, /health says "loading" and completions answer 503.
  // The engine must outlive the server.
  void set_engine(Engine* engine);
  // Binds the listening socket; returns the port (useful with port 0). Throws Error.
  int bind();
  // Serves until stop(); returns after in-flight requests finished.
  void run();
  // Graceful shutdown, step 1: new requests get 503, and so does /health ("draining");
  // waits (up to timeout_s) until the
  // requests being answered, streams included, have finished.
  void drain(double timeout_s);
  // True from the moment drain() was called: every request submitted after that gets 503.
  bool draining() const;
  // Stops accepting and closes the listening socket; run() returns. Streams still
  // open are cut (call drain() first). Safe from any thread, not from a signal handler.
  void stop();

  Metrics& metrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Fetches an http(s) image with a timeout and a size cap, refusing hosts that
// resolve to loopback, private, link-local or otherwise non-public addresses.
std::string fetch_remote_image(const std::string& url, size_t max_bytes, int timeout_s);

}  // namespace kantu::server
