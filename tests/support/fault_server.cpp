#include "support/fault_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace kantu::test {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until fd is readable, the deadline passes, or `stop` is set (checked every
// 20 ms). True when readable.
bool wait_readable(int fd, Clock::time_point deadline, const std::atomic<bool>& stop) {
  while (!stop && Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) return true;
  }
  return false;
}

void send_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

}  // namespace

FaultServer::FaultServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    throw std::runtime_error(std::string("FaultServer: cannot listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultServer::~FaultServer() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mutex_);
  for (std::thread& t : connections_) t.join();
}

void FaultServer::accept_loop() {
  while (!stopping_) {
    if (!wait_readable(listen_fd_, Clock::now() + std::chrono::seconds(1), stopping_)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void FaultServer::serve(int fd) {
  // Read the head, then Content-Length bytes of body.
  std::string data;
  Request req;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  size_t head_end = std::string::npos, want = 0;
  char buf[65536];
  while (!stopping_) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = data.substr(0, head_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = head.find("content-length:");
        want = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15));
        size_t sp1 = data.find(' '), sp2 = data.find(' ', sp1 + 1);
        req.method = data.substr(0, sp1);
        req.path = data.substr(sp1 + 1, sp2 - sp1 - 1);
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + want) break;
    if (!wait_readable(fd, deadline, stopping_)) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  if (head_end == std::string::npos || data.size() < head_end + 4 + want) {
    ::close(fd);
    return;
  }
  req.body = data.substr(head_end + 4, want);
  ++requests_;
  Reply r = handler_(req);
  if (r.delay_s > 0) {
    auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(r.delay_s));
    while (!stopping_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  switch (r.fault) {
    case Fault::kReset: {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      break;
    }
    case Fault::kClose:
      break;
    case Fault::kHang: {
      // Until the client closes its end (recv returns 0) or the server stops.
      while (!stopping_) {
        if (wait_readable(fd, Clock::now() + std::chrono::seconds(1), stopping_) && ::recv(fd, buf, sizeof buf, 0) <= 0) break;
      }
      break;
    }
    case Fault::kNone:
    case Fault::kTruncate: {
      std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) +
                         "\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(r.body.size()) + "\r\nConnection: close\r\n";
      for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
      send_all(fd, head + "\r\n" + (r.fault == Fault::kTruncate ? r.body.substr(0, r.body.size() / 2) : r.body));
      break;
    }
  }
  ::close(fd);
}

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened: nothing accepts there now
  return ntohs(addr.sin_port);
}

}  // namespace kantu::test
