// libFuzzer target: a POST /v1/vision/completion with a fuzzed multipart body, through
// cpp-httplib's request parsing (request line, headers, multipart/form-data) and the
// server's form handling (server/vision_form.h), exactly as a client's bytes travel.
// The first line of the input is the boundary, the rest the body. Anything but a request
// or a kantu::Error (a crash, a hang, a sanitizer report) is a bug.
//
// cpp-httplib comes from Debian as a shared library, which the fuzz build does not
// instrument: the mutations are guided by the coverage of kantu's side only, and the
// sanitizers watch kantu's code and every allocation the parser makes.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "server/chat_request.h"
#include "server/vision_form.h"

namespace {

// A connection whose client sent `input` and reads nothing back.
class InputStream : public httplib::Stream {
 public:
  explicit InputStream(std::string input) : input_(std::move(input)) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, input_.size() - pos_);
    std::copy_n(input_.data() + pos_, n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return 0; }

 private:
  std::string input_;
  size_t pos_ = 0;
};

class FormServer : public httplib::Server {
 public:
  FormServer() {
    set_payload_max_length(1 << 20);
    Post("/v1/vision/completion", [](const httplib::Request& req, httplib::Response& res) {
      try {
        const kantu::server::ChatRequest chat = kantu::server::vision_form_request(req);
        if (chat.images.size() != 1 || chat.messages.size() != 1 || chat.messages[0].parts.size() != 2 ||
            chat.messages[0].parts[1].text.empty())
          __builtin_trap();
        kantu::server::check_image_magic(chat.images[0], "image");
        res.status = 200;
      } catch (const kantu::Error&) {
        res.status = 400;
      }
    });
  }
  void handle(const std::string& raw) {
    InputStream stream(raw);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, nullptr);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FormServer server;
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  const std::string boundary = nl == std::string::npos ? "b" : input.substr(0, nl);
  const std::string body = nl == std::string::npos ? input : input.substr(nl + 1);
  if (boundary.find_first_of("\r\n") != std::string::npos) return 0;
  server.handle("POST /v1/vision/completion HTTP/1.1\r\nHost: fuzz\r\nContent-Type: multipart/form-data; boundary=" +
                boundary + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  return 0;
}
