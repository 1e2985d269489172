#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "core/error.h"
#include "core/json.h"
#include "core/timer.h"
#include "server/chat_request.h"
#include "server/responses.h"
#include "server/vision_form.h"
#include "server/web_assets.h"

namespace kantu::server {

namespace {

using namespace std::chrono_literals;
constexpr const char* kJson = "application/json";

// The two error shapes: OpenAI's for /v1/chat/completions, {"error": "..."} for
// /v1/vision/completion.
using ErrorJson = std::string (*)(int status, const std::string& message);

std::string openai_error_json(int status, const std::string& message) {
  return error_body(status, message);
}

std::string simple_error_json(int, const std::string& message) {
  return Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void send_error_as(ErrorJson error_json, httplib::Response& res, int status,
                   const std::string& message) {
  res.status = status;
  res.set_content(error_json(status, message), kJson);
  if (status == 503) res.set_header("Retry-After", "1");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_error_as(openai_error_json, res, status, message);
}

void send_simple_error(httplib::Response& res, int status, const std::string& message) {
  send_error_as(simple_error_json, res, status, message);
}

const char* status_message(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such route";
    case 405: return "method not allowed";
    case 413: return "the request body is larger than the server's limit (--max-body-mb)";
    case 503: return "the server is busy";
    default: return "request failed";
  }
}

std::string endpoint_label(const std::string& path) {
  for (const char* known : {"/v1/chat/completions", "/v1/vision/completion", "/v1/models",
                            "/health", "/metrics"}) {
    if (path == known) return known;
  }
  return "static";
}

// Counts requests being answered, so a drain can wait for streams to end.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& n) : n_(n) { ++n_; }
  ~InFlight() { --n_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int>& n_;
};

// cpp-httplib 0.11 listens with a backlog of 5: a burst of clients (16 at once) then
// sees dropped SYNs and 1 s retransmits. Linux lets listen() be called again on the
// listening socket to raise the backlog; the socket is found by its local port.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int p = addr.ss_family == AF_INET
                ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                             : -1;
    if (p == port) ::listen(fd, 256);
  }
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  httplib::Server http;
  Metrics metrics;
  Scheduler scheduler;
  std::atomic<Engine*> engine{nullptr};
  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> run_called{false};
  std::atomic<bool> run_returned{false};
  std::atomic<bool> stop_requested{false};
  ChatRequestLimits limits;

  explicit Impl(ServerOptions o) : options(std::move(o)), scheduler(options.scheduler, metrics) {
    if (options.memory) {
      // Every HTTP thread may hold a body up to the limit while it is read, and then its
      // images decoded from base64 (about as large) until the request ends.
      const size_t threads = http_threads();
      options.memory->reserve_fixed(cat("request bodies (", threads, " connections x 2 x --max-body-mb)"),
                                    threads * 2 * options.max_body_bytes);
      metrics.set_memory_budget(options.memory.get());
    }
    limits.max_image_bytes = options.max_body_bytes;
    if (options.allow_remote_images) {
      size_t cap = options.max_body_bytes;
      int timeout = options.remote_timeout_s;
      limits.fetch_remote_image = [cap, timeout](const std::string& url) {
        return fetch_remote_image(url, cap, timeout);
      };
    }
    routes();
  }

  // Parses, prepares and queues; throws Error for anything the client got wrong.
  std::shared_ptr<Job> submit(const ChatRequest& chat) {
    Engine* e = engine.load();
    if (!e) fail(ErrorKind::kOverloaded, "the model is still loading");
    if (draining) fail(ErrorKind::kOverloaded, "the server is shutting down");
    return scheduler.submit(*e, e->prepare(chat));
  }

  // Answers a non-streaming request with ok_json(text, job) once its job is done.
  // cpp-httplib 0.11 tells a handler nothing about its client, so waiting in the
  // handler would let an abandoned request run to the end. Instead, once the first
  // token exists, the wait moves into a chunked content provider that writes a space
  // every 250 ms (JSON allows leading whitespace): a write to a socket the client has
  // closed fails (the second one after the close, at the latest), and the job is
  // cancelled. The price: the status is sent when generation starts, so errors until
  // the first token (queue, prefill) keep their own status, while a failure during
  // decoding is a 200 whose body is the error object.
  using OkJson = std::function<std::string(const std::string& text, const Job& job)>;

  struct WaitState {
    std::shared_ptr<Job> job;
    std::string text;
    Timer since_write;
  };

  void respond_when_done(std::shared_ptr<Job> job, httplib::Response& res, ErrorJson error_json,
                         OkJson ok_json) {
    std::string text;
    for (;;) {
      Job::Update u = job->wait(100ms);
      text += u.text;
      if (u.done) {
        if (u.error) return send_error_as(error_json, res, http_status(u.error->kind()), u.error->what());
        return res.set_content(ok_json(text, *job), kJson);
      }
      if (job->generating()) break;
    }
    auto st = std::make_shared<WaitState>();
    st->job = std::move(job);
    st->text = std::move(text);
    std::atomic<int>* flight = &in_flight;
    ++in_flight;  // until the response is released
    res.set_chunked_content_provider(
        kJson,
        [st, error_json, ok_json](size_t, httplib::DataSink& sink) {
          Job::Update u = st->job->wait(250ms);
          st->text += u.text;
          if (u.done) {
            std::string body = u.error ? error_json(http_status(u.error->kind()), u.error->what())
                                       : ok_json(st->text, *st->job);
            if (!sink.write(body.data(), body.size())) return false;
            sink.done();
            return true;
          }
          if (st->since_write.ms() >= 250) {
            if (!sink.is_writable() || !sink.write(" ", 1)) {
              st->job->cancel();
              return false;
            }
            st->since_write.reset();
          }
          return true;
        },
        [st, flight](bool success) {
          if (!success) st->job->cancel();
          --*flight;
        });
  }

  size_t http_threads() const {
    return static_cast<size_t>(options.scheduler.parallel + options.scheduler.max_queue + 4);
  }

  void routes() {
    size_t threads = http_threads();
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(options.max_body_bytes);
    http.set_keep_alive_timeout(2);
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) res.set_content(error_body(res.status, status_message(res.status)), kJson);
    });
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "internal error";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          send_error(res, 500, what);
        });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.count_request(endpoint_label(req.path), res.status);
    });

    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      // Draining is not ready: readiness probes and load balancers stop sending new work
      // from the moment the drain starts, while the requests in flight finish.
      bool stopping = draining.load();
      bool ready = engine.load() != nullptr && !stopping;
      res.status = ready ? 200 : 503;
      res.set_content(Json{{"status", stopping ? "draining" : ready ? "ready" : "loading"}}.dump(), kJson);
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      Engine* e = engine.load();
      Json data = Json::array();
      if (e) {
        data.push_back({{"id", e->model_id()},
                        {"object", "model"},
                        {"created", 0},
                        {"owned_by", "kantu"},
                        {"context_length", e->context_length()}});
      }
      res.set_content(Json{{"object", "list"}, {"data", data}}.dump(), kJson);
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(), "text/plain; version=0.0.4");
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      chat_completions(req, res);
    });
    http.Post("/v1/vision/completion", [this](const httplib::Request& req, httplib::Response& res) {
      vision_completion(req, res);
    });
    http.Get("/", [](const httplib::Request&, httplib::Response& res) { serve_asset("/index.html", res); });
    http.Get(R"(/[A-Za-z0-9_.\-/]+)", [](const httplib::Request& req, httplib::Response& res) {
      serve_asset(req.path, res);
    });
  }

  static void serve_asset(const std::string& path, httplib::Response& res) {
    for (const WebAsset& a : web_assets()) {
      if (a.path == path) {
        res.set_content(a.data.data(), a.data.size(), std::string(a.content_type));
        return;
      }
    }
    send_error(res, 404, "no such route: " + path);
  }

  void chat_completions(const httplib::Request& req, httplib::Response& res) {
    InFlight guard(in_flight);
    ParsedChatRequest parsed;
    std::shared_ptr<Job> job;
    Engine* e = engine.load();
    try {
      parsed = parse_chat_request(req.body, limits);
      job = submit(parsed.chat);
    } catch (const Error& err) {
      return send_error(res, http_status(err.kind()), err.what());
    } catch (const std::exception& err) {
      return send_error(res, 500, err.what());
    }
    CompletionId id = CompletionId::make(parsed.model.empty() ? e->model_id() : parsed.model);
    if (!parsed.stream) {
      return respond_when_done(std::move(job), res, openai_error_json,
                               [id](const std::string& text, const Job& j) {
                                 return completion_body(id, text, j.stats(), j.queue_ms());
                               });
    }
    stream(std::move(job), std::move(id), parsed.include_usage, res);
  }

  struct StreamState {
    std::shared_ptr<Job> job;
    CompletionId id;
    bool include_usage = false;
    bool started = false;
    Timer since_write;
    std::atomic<int>* in_flight = nullptr;
  };

  void stream(std::shared_ptr<Job> job, CompletionId id, bool include_usage, httplib::Response& res) {
    auto st = std::make_shared<StreamState>();
    st->job = std::move(job);
    st->id = std::move(id);
    st->include_usage = include_usage;
    st->in_flight = &in_flight;
    ++in_flight;  // until the response is released
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [st](size_t, httplib::DataSink& sink) {
          auto write = [&](const std::string& s) {
            if (!sink.is_writable() || !sink.write(s.data(), s.size())) {
              st->job->cancel();
              return false;
            }
            st->since_write.reset();
            return true;
          };
          if (!st->started) {
            st->started = true;
            return write(role_chunk_event(st->id));
          }
          Job::Update u = st->job->wait(250ms);
          if (!u.text.empty() && !write(content_chunk_event(st->id, u.text))) return false;
          if (u.done) {
            if (u.error) {
              if (!write(error_event(http_status(u.error->kind()), u.error->what()))) return false;
            } else {
              SequenceStats stats = st->job->stats();
              if (!write(final_chunk_event(st->id, stats, st->job->queue_ms()))) return false;
              if (st->include_usage && !write(usage_chunk_event(st->id, stats))) return false;
            }
            if (!write(kDoneEvent)) return false;
            sink.done();
            return true;
          }
          // A comment line now and then finds out whether the client is still there.
          if (st->since_write.ms() > 1000 && !write(": keep-alive\n\n")) return false;
          return true;
        },
        [st](bool success) {
          if (!success) st->job->cancel();
          --*st->in_flight;
        });
  }

  void vision_completion(const httplib::Request& req, httplib::Response& res) {
    InFlight guard(in_flight);
    std::shared_ptr<Job> job;
    try {
      job = submit(vision_form_request(req));
    } catch (const Error& err) {
      return send_simple_error(res, http_status(err.kind()), err.what());
    } catch (const std::exception& err) {
      return send_simple_error(res, 500, err.what());
    }
    respond_when_done(std::move(job), res, simple_error_json, [](const std::string& text, const Job&) {
      return Json{{"result", text}}.dump(-1, ' ', false, Json::error_handler_t::replace);
    });
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
  impl_->scheduler.shutdown();
}

void HttpServer::set_engine(Engine* engine) {
  impl_->engine = engine;
  impl_->metrics.set_prefix_cache(engine ? engine->prefix_cache() : nullptr);
  std::function<CacheUsage()> image_cache;
  if (engine && engine->image_cache_usage()) {
    image_cache = [engine] { return engine->image_cache_usage().value_or(CacheUsage{}); };
  }
  impl_->metrics.set_image_cache(std::move(image_cache));
}

int HttpServer::bind() {
  const ServerOptions& o = impl_->options;
  int port = o.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(o.host);
  } else if (!impl_->http.bind_to_port(o.host, port)) {
    port = -1;
  }
  if (port <= 0) fail(ErrorKind::kInvalidArgument, "cannot listen on ", o.host, ":", o.port);
  widen_listen_backlog(port);
  return port;
}

void HttpServer::run() {
  impl_->run_called = true;
  // A stop() that came first (a model that failed to load right after bind) must not be
  // lost: stop() reads run_called after setting stop_requested, so one of the two sees it.
  if (!impl_->stop_requested) impl_->http.listen_after_bind();
  impl_->run_returned = true;
}

void HttpServer::drain(double timeout_s) {
  impl_->draining = true;
  Timer t;
  while (impl_->in_flight.load() > 0 && t.ms() < timeout_s * 1000) std::this_thread::sleep_for(20ms);
}

bool HttpServer::draining() const { return impl_->draining.load(); }

void HttpServer::stop() {
  // run() may be about to start listening on another thread: wait for it, so the
  // stop is not lost (or it sees stop_requested and does not listen at all).
  impl_->stop_requested = true;
  Timer t;
  while (impl_->run_called && !impl_->run_returned && !impl_->http.is_running() && t.ms() < 2000) {
    std::this_thread::sleep_for(1ms);
  }
  impl_->http.stop();
}

Metrics& HttpServer::metrics() { return impl_->metrics; }

namespace {

bool is_public_ipv4(uint32_t a) {  // host byte order
  auto in = [&](uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return !(in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
           in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0A80000, 16) ||
           in(0xC6120000, 15) || in(0xE0000000, 4) || in(0xF0000000, 4));
}

bool is_public_address(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    return is_public_ipv4(ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr));
  }
  if (sa->sa_family != AF_INET6) return false;
  const unsigned char* b = reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr;
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::equal(b, b + 12, kMapped)) {
    return is_public_ipv4((uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15]);
  }
  bool zero_prefix = std::all_of(b, b + 15, [](unsigned char c) { return c == 0; });
  if (zero_prefix) return false;                    // :: and ::1
  if ((b[0] & 0xFE) == 0xFC) return false;          // fc00::/7 unique local
  if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return false;  // fe80::/10 link-local
  if (b[0] == 0xFF) return false;                   // multicast
  return true;
}

}  // namespace

std::string fetch_remote_image(const std::string& url, size_t max_bytes, int timeout_s) {
  const std::string what = "image_url '" + url.substr(0, 200) + "'";
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") fail(ErrorKind::kInvalidArgument, what, ": not an http(s) URL");
  size_t host_begin = scheme_end + 3;
  size_t path_begin = url.find_first_of("/?#", host_begin);
  std::string authority = url.substr(host_begin, path_begin == std::string::npos ? std::string::npos
                                                                                 : path_begin - host_begin);
  std::string path = path_begin == std::string::npos ? "/" : url.substr(path_begin);
  if (path[0] != '/') path = "/" + path;
  if (auto hash = path.find('#'); hash != std::string::npos) path.resize(hash);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    fail(ErrorKind::kInvalidArgument, what, ": malformed host");
  }
  std::string host = authority, port = scheme == "https" ? "443" : "80";
  if (host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) fail(ErrorKind::kInvalidArgument, what, ": malformed host");
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    port = host.substr(colon + 1);
    host.resize(colon);
  }
  // Resolve once, check every address, then make the client use exactly the address
  // that was checked (no second lookup that a rebinding DNS could answer differently).
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) {
    fail(ErrorKind::kInvalidArgument, what, ": cannot resolve host '", host, "'");
  }
  std::string address;
  bool all_public = true;
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    all_public = all_public && is_public_address(ai->ai_addr);
    if (address.empty()) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* src = ai->ai_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
      if (inet_ntop(ai->ai_family, src, buf, sizeof buf)) address = buf;
    }
  }
  freeaddrinfo(found);
  if (!all_public || address.empty()) {
    fail(ErrorKind::kInvalidArgument, what, ": refusing to fetch from a private or local address");
  }
  httplib::Client client(scheme + "://" + authority);
  client.set_hostname_addr_map({{host, address}});
  client.set_follow_location(false);
  client.set_connection_timeout(timeout_s, 0);
  client.set_read_timeout(timeout_s, 0);
  std::string body;
  bool too_large = false;
  Timer t;
  auto result = client.Get(path, [&](const char* data, size_t n) {
    if (body.size() + n > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return t.ms() < timeout_s * 1000.0;
  });
  if (too_large) fail(ErrorKind::kTooLarge, what, ": the image is larger than ", max_bytes, " bytes");
  if (!result) fail(ErrorKind::kInvalidArgument, what, ": fetch failed (", httplib::to_string(result.error()), ")");
  if (result->status != 200) fail(ErrorKind::kInvalidArgument, what, ": the server answered ", result->status);
  return body;
}

}  // namespace kantu::server
