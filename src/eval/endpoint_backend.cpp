#include "eval/endpoint_backend.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "core/timer.h"

namespace kantu::eval {
namespace {

struct ParsedUrl {
  std::string host_port;  // scheme://host:port for httplib
  std::string path;       // request path
};

ParsedUrl parse_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0)
    fail(ErrorKind::kUnsupported, "endpoint ", url, ": https is not supported, use http://");
  if (url.rfind("http://", 0) != 0)
    fail(ErrorKind::kInvalidArgument, "endpoint ", url, ": expected http://host:port[/path]");
  size_t slash = url.find('/', 7);
  ParsedUrl out;
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

class EndpointBackend : public CaptionBackend {
 public:
  explicit EndpointBackend(const EndpointOptions& options)
      : options_(options), url_(parse_url(options.url)), client_(url_.host_port) {
    if (options.model.empty()) fail(ErrorKind::kInvalidArgument, "--endpoint needs --model NAME");
    auto sec = static_cast<time_t>(options.timeout_s);
    auto usec = static_cast<time_t>((options.timeout_s - static_cast<double>(sec)) * 1e6);
    client_.set_connection_timeout(std::min<time_t>(sec, 30), usec);
    client_.set_read_timeout(sec, usec);
    client_.set_write_timeout(sec, usec);
  }

  std::string model_name() const override { return options_.model; }
  std::string kind() const override { return "endpoint"; }
  std::optional<double> peak_memory_mb() const override { return std::nullopt; }

  Caption caption(const CaptionRequest& request) override {
    std::string data_url =
        "data:" + image_mime_type(request.image_path) + ";base64," + base64_encode(read_file(request.image_path));
    Json body = {
        {"model", options_.model},
        {"messages",
         {{{"role", "user"},
           {"content",
            {{{"type", "image_url"}, {"image_url", {{"url", data_url}}}},
             {{"type", "text"}, {"text", request.prompt}}}}}}},
        {"max_tokens", request.max_tokens},
        {"temperature", 0},
        {"stream", false}};
    Timer timer;
    httplib::Result res = client_.Post(url_.path, body.dump(), "application/json");
    double ms = timer.ms();
    const std::string where = options_.url;
    if (!res) {
      fail(ErrorKind::kUnsupported, "endpoint ", where, ": request failed: ",
           httplib::to_string(res.error()));
    }
    if (res->status != 200) {
      std::string text = res->body.substr(0, 300);
      fail(ErrorKind::kUnsupported, "endpoint ", where, ": HTTP ", res->status, ": ", text);
    }
    Json reply = parse_json(res->body, "reply of " + where);
    Caption out;
    try {
      const Json& content = reply.at("choices").at(0).at("message").at("content");
      if (!content.is_string()) throw std::runtime_error("content is not a string");
      out.text = content.get<std::string>();
    } catch (const std::exception& e) {
      fail(ErrorKind::kCorrupt, "reply of ", where, " has no choices[0].message.content string (",
           e.what(), "): ", res->body.substr(0, 300));
    }
    out.timings.total_ms = ms;
    if (reply.contains("usage") && reply.at("usage").is_object()) {
      const Json& usage = reply.at("usage");
      if (usage.contains("prompt_tokens") && usage.at("prompt_tokens").is_number_integer())
        out.timings.prompt_tokens = usage.at("prompt_tokens").get<long long>();
      if (usage.contains("completion_tokens") && usage.at("completion_tokens").is_number_integer())
        out.timings.generated_tokens = usage.at("completion_tokens").get<long long>();
    }
    return out;
  }

 private:
  EndpointOptions options_;
  ParsedUrl url_;
  httplib::Client client_;
};

}  // namespace

std::string base64_encode(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
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

std::unique_ptr<CaptionBackend> make_endpoint_backend(const EndpointOptions& options) {
  return std::make_unique<EndpointBackend>(options);
}

}  // namespace kantu::eval
