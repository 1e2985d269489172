// A scriptable HTTP/1.1 server on loopback for testing clients against the failures of
// real networks and servers: an error status (with headers such as Retry-After), a
// connection reset, a close without an answer, a body cut short, a server that never
// answers. Each request is answered by the handler's Reply; every connection is closed
// after one exchange. Raw sockets, so the faults are exactly what a client would see.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kantu::test {

class FaultServer {
 public:
  enum class Fault {
    kNone,      // answer `status` with `body` and `headers`
    kReset,     // read the request, then reset the connection (RST)
    kClose,     // read the request, then close without a byte
    kTruncate,  // announce the whole body, send half of it, close
    kHang,      // read the request and say nothing until the client gives up (or stop)
  };
  struct Reply {
    Fault fault = Fault::kNone;
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    double delay_s = 0;  // before answering
  };
  struct Request {
    std::string method, path, body;
  };
  using Handler = std::function<Reply(const Request& request)>;

  explicit FaultServer(Handler handler);
  ~FaultServer();
  FaultServer(const FaultServer&) = delete;
  FaultServer& operator=(const FaultServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;
};

// A loopback port nothing listens on (connections are refused).
int unused_port();

}  // namespace kantu::test
