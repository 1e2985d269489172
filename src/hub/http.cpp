#include "hub/http.h"

#include <curl/curl.h>
#include <strings.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>

#include "core/error.h"

namespace kantu::hub {

namespace {

using Clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

// State shared with libcurl's callbacks during one perform().
struct Exchange {
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  size_t max_body = 0;
  bool sink_failed = false;
  bool body_too_large = false;
  double stall_timeout_s = 0;
  curl_off_t last_bytes = -1;
  Clock::time_point last_progress = Clock::now();
  bool stalled = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (e.g. after "100 Continue")
    ex->response->headers.clear();
    const size_t sp = line.find(' ');
    if (sp != std::string::npos)
      ex->response->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string::npos)
    ex->response->headers[trim(line.substr(0, colon))] = trim(line.substr(colon + 1));
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  // The status line came first (on_header); the body of a 2xx goes to the sink.
  const long status = ex->response->status;
  if (status >= 200 && status < 300 && ex->sink && *ex->sink) {
    if (!(*ex->sink)(*ex->response, data, bytes)) {
      ex->sink_failed = true;
      return 0;
    }
    return bytes;
  }
  if (ex->response->body.size() + bytes > ex->max_body) {
    ex->body_too_large = true;
    return 0;
  }
  ex->response->body.append(data, bytes);
  return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t now_down, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->stall_timeout_s <= 0) return 0;
  const auto now = Clock::now();
  if (now_down != ex->last_bytes) {
    ex->last_bytes = now_down;
    ex->last_progress = now;
    return 0;
  }
  if (std::chrono::duration<double>(now - ex->last_progress).count() > ex->stall_timeout_s) {
    ex->stalled = true;
    return 1;  // abort the transfer
  }
  return 0;
}

}  // namespace

bool HeaderNameLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient() {
  global_init();
  curl_ = curl_easy_init();
  if (!curl_) fail(ErrorKind::kInternal, "libcurl: cannot create a handle");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::perform(const HttpRequest& request, const BodySink& sink, size_t max_body) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache
  HttpResponse response;
  response.url = request.url;
  Exchange ex;
  ex.response = &response;
  ex.sink = &sink;
  ex.max_body = max_body;
  ex.stall_timeout_s = request.stall_timeout_s;

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers)
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  char error[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kantu/0.1.0");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &ex);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_s * 1000));
  if (request.timeout_s > 0)
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  std::string range;
  if (request.range_from >= 0) {
    range = std::to_string(request.range_from) + "-";
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc == CURLE_OK) return response;

  const std::string what = request.method + " " + request.url + ": ";
  const std::string detail = error[0] ? std::string(error) : std::string(curl_easy_strerror(rc));
  using Kind = TransportError::Kind;
  if (ex.stalled)
    throw TransportError(Kind::kTimeout, what + "no data for " +
                                             std::to_string(static_cast<int>(request.stall_timeout_s)) +
                                             " s (timed out)");
  if (ex.sink_failed) throw TransportError(Kind::kWrite, what + "the download could not be written");
  if (ex.body_too_large)
    throw TransportError(Kind::kOther, what + "the answer is larger than expected (" +
                                           std::to_string(max_body) + " bytes at most)");
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
      throw TransportError(Kind::kConnect, what + detail);
    case CURLE_OPERATION_TIMEDOUT:
      throw TransportError(Kind::kTimeout, what + detail + " (timed out)");
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      throw TransportError(Kind::kDropped, what + detail + " (connection dropped)");
    case CURLE_ABORTED_BY_CALLBACK:
      throw TransportError(Kind::kAborted, what + detail);
    default:
      throw TransportError(Kind::kOther, what + detail);
  }
}

std::string resolve_url(const std::string& base, const std::string& location) {
  global_init();
  CURLU* u = curl_url();
  std::string out;
  if (curl_url_set(u, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    char* s = nullptr;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
      out = s;
      curl_free(s);
    }
  }
  curl_url_cleanup(u);
  if (out.empty()) fail(ErrorKind::kCorrupt, "cannot follow the redirect from ", base, " to '", location, "'");
  return out;
}

std::string url_origin(const std::string& url) {
  global_init();
  CURLU* u = curl_url();
  std::string origin;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    char* host = nullptr;
    char* port = nullptr;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
      origin = std::string(host) + ":" + port;
    curl_free(host);
    curl_free(port);
  }
  curl_url_cleanup(u);
  return origin;
}

std::string url_quote(const std::string& text, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace kantu::hub
