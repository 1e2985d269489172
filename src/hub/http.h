// One HTTP exchange over libcurl, without following redirects (the Hub client decides
// what a redirect means: a renamed repo, or a CDN that must not see the token). Proxies
// (http_proxy, https_proxy, all_proxy, no_proxy) are read by libcurl from the environment.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kantu::hub {

// Header names compare case-insensitively, as HTTP says.
struct HeaderNameLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::map<std::string, std::string, HeaderNameLess>;

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  Headers headers;
  int64_t range_from = -1;        // >= 0: "Range: bytes=N-"
  double timeout_s = 0;           // whole exchange; 0 = none (downloads use stall_timeout_s)
  double connect_timeout_s = 10;
  double stall_timeout_s = 0;     // abort when no byte arrives for this long; 0 = never
};

struct HttpResponse {
  long status = 0;
  Headers headers;
  std::string url;   // the URL that answered
  std::string body;  // the body when no sink took it (capped; see HttpClient::perform)
  std::string header(const std::string& name) const;
  bool is_redirect() const { return status >= 300 && status < 400; }
};

// Transport failures (no HTTP status to judge by): worth retrying except kWrite/kAborted.
class TransportError : public std::runtime_error {
 public:
  enum class Kind { kConnect, kTimeout, kDropped, kWrite, kAborted, kOther };
  TransportError(Kind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Receives the body bytes of a 2xx response (`head`: its status and headers, complete by
// then); returns false to abort (e.g. a write failed).
using BodySink = std::function<bool(const HttpResponse& head, const char* data, size_t size)>;

// One connection cache (libcurl easy handle) reused across requests; not thread-safe.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws TransportError when no complete response arrived. A 2xx body goes to `sink`
  // when given; any other body (and a 2xx body without sink) lands in response.body, up
  // to max_body bytes (more is a TransportError kOther).
  HttpResponse perform(const HttpRequest& request, const BodySink& sink = nullptr,
                       size_t max_body = size_t{1} << 20);

 private:
  void* curl_;
};

// URL helpers (libcurl's URL parser).
// `location` (absolute, scheme-relative or relative) resolved against `base`.
std::string resolve_url(const std::string& base, const std::string& location);
// "host:port" with the scheme's default port filled in: two URLs are one origin when equal.
std::string url_origin(const std::string& url);
// Percent-encodes like Python's urllib.parse.quote (letters, digits, "_.-~" kept; "/" kept
// when keep_slash).
std::string url_quote(const std::string& text, bool keep_slash);

}  // namespace kantu::hub
