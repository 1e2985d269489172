// One in-process `kantu serve` for a test: a real engine behind an HttpServer on a free
// loopback port, running on its own thread for the life of the object.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "server/http_server.h"
#include "server/real_engine.h"

namespace kantu::test {

class ServedEngine {
 public:
  ServedEngine(const std::string& model, const server::RealEngineOptions& engine_options,
               server::ServerOptions server_options = {})
      : engine_(server::load_real_engine(model, engine_options)) {
    server_options.port = 0;
    http_ = std::make_unique<server::HttpServer>(server_options);
    port_ = http_->bind();
    http_->set_engine(engine_.get());
    runner_ = std::thread([this] { http_->run(); });
  }
  ~ServedEngine() {
    http_->stop();
    runner_.join();
  }
  ServedEngine(const ServedEngine&) = delete;
  ServedEngine& operator=(const ServedEngine&) = delete;

  int port() const { return port_; }

 private:
  std::unique_ptr<server::Engine> engine_;
  std::unique_ptr<server::HttpServer> http_;
  int port_ = 0;
  std::thread runner_;
};

}  // namespace kantu::test
