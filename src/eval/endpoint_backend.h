// A CaptionBackend speaking the OpenAI chat-completions API over plain HTTP to one or
// more servers: the image goes as a base64 data URL in an image_url part, followed by
// the prompt as text. Thread-safe: `kantu eval run --concurrency N` calls caption()
// from N threads, and the requests spread over the endpoints (endpoint_pool.h).
//
// A failed request is retried, on another endpoint when there is one, after a backoff
// (doubling, with jitter): connection refused or reset, timeouts, a reply cut short,
// HTTP 429/502/503/504 (their Retry-After is honoured), and a 200 whose body is an
// error object (kantu serve's way of reporting a failure after the status was sent).
// Any other answer (400, 413, 500, a reply without a caption) ends the run with an
// error: retrying would give the same answer.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eval/caption_backend.h"
#include "eval/endpoint_pool.h"

namespace kantu::eval {

struct EndpointOptions {
  std::vector<std::string> urls;  // http://host:port[/prefix]; /v1/chat/completions is
                                  // appended unless a URL ends with /chat/completions or /v1
  std::string model;              // the "model" field of the request
  double timeout_s = 300;         // per attempt
  int max_attempts = 10;          // per image
  double backoff_s = 0.25;        // before the first retry; doubles up to max_backoff_s
  double max_backoff_s = 10;
  EndpointPoolOptions pool;
};

class EndpointBackend : public CaptionBackend {
 public:
  explicit EndpointBackend(EndpointOptions options);
  ~EndpointBackend() override;

  std::string model_name() const override { return options_.model; }
  std::string kind() const override { return "endpoint"; }
  bool concurrent() const override { return true; }
  std::optional<double> peak_memory_mb() const override { return std::nullopt; }
  Caption caption(const CaptionRequest& request) override;

  // Before a run: does each endpoint answer HTTP at all (any status counts)? Those that
  // do not are taken out for a while and returned as "URL: reason" (warnings); when
  // none answers, throws: a wrong address fails at once, not after every retry.
  std::vector<std::string> check_reachable();

  std::vector<EndpointPool::Stats> endpoint_stats() const { return pool_.stats(); }
  int64_t retries() const;

  struct Target;  // one parsed URL

 private:
  struct Attempt;
  Attempt send(const Target& target, const std::string& body) const;

  EndpointOptions options_;
  std::vector<Target> targets_;
  mutable EndpointPool pool_;
  mutable std::mutex mutex_;
  int64_t retries_ = 0;
};

std::unique_ptr<EndpointBackend> make_endpoint_backend(const EndpointOptions& options);

// Exposed for tests.
std::string image_mime_type(const std::string& path);
// Seconds from a Retry-After value (delta-seconds or an HTTP date), relative to
// `now_unix`; nullopt when it is neither. Negative values give 0.
std::optional<double> parse_retry_after(const std::string& value, double now_unix);

}  // namespace kantu::eval
