#include "eval/endpoint_backend.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <random>
#include <thread>

#include "core/base64.h"
#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "core/timer.h"

namespace kantu::eval {

struct EndpointBackend::Target {
  std::string url;        // as given, for messages
  std::string host_port;  // scheme://host:port for httplib
  std::string path;       // request path
};

// The outcome of one HTTP exchange.
struct EndpointBackend::Attempt {
  enum class Outcome { kCaption, kRetry, kFail } outcome = Outcome::kFail;
  Caption caption;
  std::string error;  // kRetry / kFail: what went wrong
  ErrorKind kind = ErrorKind::kUnsupported;
  std::optional<double> retry_after_s;
};

namespace {

using Clock = EndpointPool::Clock;

EndpointBackend::Target parse_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    fail(ErrorKind::kUnsupported, "endpoint ", url, ": https is not supported, use http://");
  if (url.rfind("http://", 0) != 0)
    fail(ErrorKind::kInvalidArgument, "endpoint ", url, ": expected http://host:port[/path]");
  size_t slash = url.find('/', 7);
  EndpointBackend::Target out;
  out.url = url;
  out.host_port = slash == std::string::npos ? url : url.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : url.substr(slash);
  while (!path.empty() && path.back() == '/') path.pop_back();
  auto ends_with = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with("/chat/completions")) out.path = path;
  else if (ends_with("/v1")) out.path = path + "/chat/completions";
  else out.path = path + "/v1/chat/completions";
  if (out.host_port.size() <= 7) fail(ErrorKind::kInvalidArgument, "endpoint ", url, ": no host");
  return out;
}

std::vector<std::string> checked_urls(const EndpointOptions& o) {
  if (o.urls.empty()) fail(ErrorKind::kInvalidArgument, "--endpoint needs at least one URL");
  if (o.model.empty()) fail(ErrorKind::kInvalidArgument, "--endpoint needs --model NAME");
  if (o.max_attempts < 1) fail(ErrorKind::kInvalidArgument, "--retries must be >= 0");
  if (!(o.timeout_s > 0)) fail(ErrorKind::kInvalidArgument, "--timeout must be > 0");
  return o.urls;
}

bool retryable_status(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

void set_timeout(httplib::Client& client, double seconds) {
  auto sec = static_cast<time_t>(seconds);
  auto usec = static_cast<time_t>((seconds - static_cast<double>(sec)) * 1e6);
  client.set_connection_timeout(std::min<time_t>(sec, 10), sec >= 10 ? 0 : usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

EndpointBackend::EndpointBackend(EndpointOptions options)
    : options_(std::move(options)), pool_(checked_urls(options_), options_.pool) {
  for (const std::string& url : options_.urls) targets_.push_back(parse_url(url));
}

EndpointBackend::~EndpointBackend() = default;

int64_t EndpointBackend::retries() const {
  std::lock_guard lock(mutex_);
  return retries_;
}

EndpointBackend::Attempt EndpointBackend::send(const Target& target, const std::string& body) const {
  httplib::Client client(target.host_port);
  set_timeout(client, options_.timeout_s);
  Timer timer;
  httplib::Result res = client.Post(target.path, body, "application/json");
  const double ms = timer.ms();
  Attempt a;
  if (!res) {
    a.outcome = Attempt::Outcome::kRetry;
    a.error = cat("request failed: ", httplib::to_string(res.error()));
    return a;
  }
  const std::string excerpt = res->body.substr(0, 300);
  if (res->status != 200) {
    a.error = cat("HTTP ", res->status, ": ", excerpt);
    if (retryable_status(res->status)) {
      a.outcome = Attempt::Outcome::kRetry;
      if (res->has_header("Retry-After"))
        a.retry_after_s = parse_retry_after(res->get_header_value("Retry-After"), unix_now());
    }
    return a;
  }
  Json reply = Json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_object() && reply.contains("error") && !reply.contains("choices")) {
    // The status was sent before the failure (kantu serve sends it at the first token).
    a.outcome = Attempt::Outcome::kRetry;
    a.error = cat("the reply is an error: ", excerpt);
    return a;
  }
  try {
    if (reply.is_discarded()) throw std::runtime_error("not JSON");
    const Json& content = reply.at("choices").at(0).at("message").at("content");
    if (!content.is_string()) throw std::runtime_error("content is not a string");
    a.caption.text = content.get<std::string>();
  } catch (const std::exception& e) {
    a.kind = ErrorKind::kCorrupt;
    a.error = cat("the reply has no choices[0].message.content string (", e.what(), "): ", excerpt);
    return a;
  }
  a.outcome = Attempt::Outcome::kCaption;
  a.caption.timings.total_ms = ms;
  if (reply.contains("usage") && reply.at("usage").is_object()) {
    const Json& usage = reply.at("usage");
    if (usage.contains("prompt_tokens") && usage.at("prompt_tokens").is_number_integer())
      a.caption.timings.prompt_tokens = usage.at("prompt_tokens").get<long long>();
    if (usage.contains("completion_tokens") && usage.at("completion_tokens").is_number_integer())
      a.caption.timings.generated_tokens = usage.at("completion_tokens").get<long long>();
  }
  return a;
}

std::vector<std::string> EndpointBackend::check_reachable() {
  std::vector<std::string> problems(targets_.size());
  std::vector<std::thread> checks;
  for (size_t i = 0; i < targets_.size(); ++i) {
    checks.emplace_back([&, i] {
      httplib::Client client(targets_[i].host_port);
      set_timeout(client, std::min(options_.timeout_s, 5.0));
      httplib::Result res = client.Get(targets_[i].path);
      if (!res) problems[i] = cat("request failed: ", httplib::to_string(res.error()));
    });
  }
  for (std::thread& t : checks) t.join();
  std::vector<std::string> warnings;
  for (size_t i = 0; i < targets_.size(); ++i) {
    if (problems[i].empty()) continue;
    warnings.push_back(targets_[i].url + ": " + problems[i]);
    pool_.mark_down(i, Clock::now());
  }
  if (warnings.size() == targets_.size()) {
    std::string all;
    for (const std::string& w : warnings) all += (all.empty() ? "" : "; ") + w;
    fail(ErrorKind::kUnsupported, "no endpoint answers: ", all);
  }
  return warnings;
}

Caption EndpointBackend::caption(const CaptionRequest& request) {
  const std::string data_url =
      "data:" + image_mime_type(request.image_path) + ";base64," + base64_encode(read_file(request.image_path));
  const std::string body = Json{
      {"model", options_.model},
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "image_url"}, {"image_url", {{"url", data_url}}}},
           {{"type", "text"}, {"text", request.prompt}}}}}}},
      {"max_tokens", request.max_tokens},
      {"temperature", 0},
      {"stream", false}}.dump();

  thread_local std::minstd_rand jitter_rng(std::random_device{}());
  std::optional<size_t> last;
  std::string last_error;
  for (int attempt = 1;; ++attempt) {
    EndpointPool::Pick pick = pool_.pick(Clock::now(), last);
    while (!pick.index) {
      std::this_thread::sleep_for(std::min<Clock::duration>(pick.wait, std::chrono::seconds(1)));
      pick = pool_.pick(Clock::now(), last);
    }
    const size_t i = *pick.index;
    Attempt a = send(targets_[i], body);
    if (a.outcome == Attempt::Outcome::kCaption) {
      pool_.succeeded(i);
      return std::move(a.caption);
    }
    const std::string where = "endpoint " + targets_[i].url;
    if (a.outcome == Attempt::Outcome::kFail) {
      pool_.released(i);
      fail(a.kind, where, ": ", a.error);
    }
    std::optional<Clock::duration> retry_after;
    if (a.retry_after_s) {
      retry_after = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>(std::min(*a.retry_after_s, 3600.0)));
    }
    pool_.failed(i, Clock::now(), retry_after);
    last_error = where + ": " + a.error;
    if (attempt >= options_.max_attempts) {
      fail(ErrorKind::kOverloaded, request.image_path, ": no endpoint answered after ", attempt,
           " attempts; the last: ", last_error);
    }
    {
      std::lock_guard lock(mutex_);
      ++retries_;
    }
    last = i;
    const double backoff = std::min(options_.max_backoff_s, options_.backoff_s * std::pow(2.0, attempt - 1));
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff * jitter(jitter_rng)));
  }
}

std::unique_ptr<EndpointBackend> make_endpoint_backend(const EndpointOptions& options) {
  return std::make_unique<EndpointBackend>(options);
}

std::string image_mime_type(const std::string& path) {
  std::string ext = path.substr(path.find_last_of('.') == std::string::npos ? path.size()
                                                                             : path.find_last_of('.') + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "png") return "image/png";
  if (ext == "webp") return "image/webp";
  if (ext == "gif") return "image/gif";
  if (ext == "bmp") return "image/bmp";
  return "application/octet-stream";
}

std::optional<double> parse_retry_after(const std::string& value, double now_unix) {
  std::string v = value;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    if (v.size() > 9) return 1e9;  // absurd, but a number: the caller caps it
    return std::stod(v);
  }
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 section 5.6.7).
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  const double at = static_cast<double>(timegm(&tm));
  return std::max(0.0, at - now_unix);
}

}  // namespace kantu::eval
