// Three `kantu serve` replicas of the tiny model behind nginx, configured with the
// shipped example deploy/nginx/kantu.conf (only its addresses are swapped for loopback
// test ports): an evaluation through nginx survives one replica being killed in the
// middle and started again. Nothing is lost or recorded twice, the scores equal a run
// against one server directly, the restarted replica takes requests again, and a
// streamed answer comes through nginx event by event.
//
// nginx (Debian's package, scripts/setup installs it) runs as a child of the test with
// its own prefix, config, pid file, logs and temp folders in the test's directory.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "core/subprocess.h"
#include "support/fault_server.h"
#include "support/testdata.h"
#include "unit/image/test_encoders.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string nginx_binary() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"})
    if (::access(p, X_OK) == 0) return p;
  throw std::runtime_error("nginx not found (Debian package nginx; scripts/setup installs it)");
}

// A replica: `kantu serve` of the tiny model on a fixed port, ready when this returns.
std::unique_ptr<Subprocess> start_replica(int port) {
  auto p = std::make_unique<Subprocess>(
      std::vector<std::string>{KANTU_EXE, "serve", "-m", test::testdata("models/qwen3vl-tiny-a"), "--port",
                               std::to_string(port), "--threads", "1", "--parallel", "2"},
      "");
  for (;;) {
    Json event = parse_json(p->read_line(60), "kantu serve event");
    if (event.at("event") == "ready") return p;
  }
}

int64_t completions_served(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  if (!r || r->status != 200) return -1;
  std::smatch m;
  std::regex re(R"(kantu_requests_total\{endpoint="/v1/chat/completions",status="200"\} (\d+))");
  return std::regex_search(r->body, m, re) ? std::stoll(m[1]) : 0;
}

// deploy/nginx/kantu.conf with its three replica addresses and its listen port replaced;
// each must be found exactly once, so an edit that breaks the pattern fails here.
std::string templated_example(const std::vector<int>& replicas, int listen_port) {
  std::string conf = read_whole(std::string(KANTU_SOURCE_DIR) + "/deploy/nginx/kantu.conf");
  auto replace_once = [&](const std::string& from, const std::string& to) {
    size_t at = conf.find(from);
    if (at == std::string::npos || conf.find(from, at + 1) != std::string::npos)
      throw std::runtime_error("deploy/nginx/kantu.conf: expected exactly one '" + from + "'");
    conf.replace(at, from.size(), to);
  };
  for (size_t i = 0; i < replicas.size(); ++i)
    replace_once("server 127.0.0.1:808" + std::to_string(i + 1) + " ",
                 "server 127.0.0.1:" + std::to_string(replicas[i]) + " ");
  replace_once("listen 8080;", "listen 127.0.0.1:" + std::to_string(listen_port) + ";");
  return conf;
}

// nginx with everything under `dir`; running when this returns.
std::unique_ptr<Subprocess> start_nginx(const std::string& dir, const std::string& site_conf, int port) {
  for (const char* sub : {"body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"}) fs::create_directories(dir + "/" + sub);
  test::write_text_file(dir + "/kantu.conf", site_conf);
  std::string main_conf =
      std::string(::geteuid() == 0 ? "user root;\n" : "") +  // workers keep the test's user
      "worker_processes 1;\n"
      "pid " + dir + "/nginx.pid;\n"
      "error_log " + dir + "/logs/error.log info;\n"
      "events { worker_connections 256; }\n"
      "http {\n"
      "  access_log " + dir + "/logs/access.log;\n"
      "  client_body_temp_path " + dir + "/body;\n"
      "  proxy_temp_path " + dir + "/proxy;\n"
      "  fastcgi_temp_path " + dir + "/fastcgi;\n"
      "  uwsgi_temp_path " + dir + "/uwsgi;\n"
      "  scgi_temp_path " + dir + "/scgi;\n"
      "  include " + dir + "/kantu.conf;\n"
      "}\n";
  test::write_text_file(dir + "/nginx.conf", main_conf);
  auto p = std::make_unique<Subprocess>(
      std::vector<std::string>{nginx_binary(), "-p", dir, "-c", dir + "/nginx.conf", "-e", dir + "/logs/error.log",
                               "-g", "daemon off;"},
      "");
  for (int i = 0; i < 500; ++i) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(0, 100000);
    auto r = c.Get("/health");
    if (r && r->status == 200) return p;
    if (!p->running())
      throw std::runtime_error("nginx exited: " + p->stderr_tail() + "\n" + read_whole(dir + "/logs/error.log"));
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("nginx did not answer /health: " + read_whole(dir + "/logs/error.log"));
}

// `n` distinct images (no two share the vision cache) and their COCO annotations.
void write_coco_set(const std::string& dir, int n) {
  fs::create_directories(dir + "/images");
  Json ann = {{"images", Json::array()}, {"annotations", Json::array()}};
  for (int i = 0; i < n; ++i) {
    test::PngSpec png;
    png.width = 160 + 16 * (i % 5);
    png.height = 128 + 16 * (i % 3);
    for (int y = 0; y < png.height; ++y)
      for (int x = 0; x < png.width; ++x)
        for (int c = 0; c < 3; ++c) png.samples.push_back(static_cast<uint8_t>((x * (c + 1) + y * (i + 2) + 37 * i) & 255));
    test::Bytes bytes = test::encode_png(png);
    std::string file = "im" + std::to_string(i) + ".png";
    test::write_text_file(dir + "/images/" + file, std::string(bytes.begin(), bytes.end()));
    ann["images"].push_back({{"id", 1000 + i}, {"file_name", file}});
    ann["annotations"].push_back({{"image_id", 1000 + i}, {"caption", "a pattern of stripes number " + std::to_string(i)}});
  }
  test::write_text_file(dir + "/captions.json", ann.dump());
}

std::vector<std::string> eval_args(const std::string& dir, const std::string& url, const std::string& out) {
  return {KANTU_EXE, "eval", "run", "--endpoint", url, "--model", "tiny", "--annotations", dir + "/captions.json",
          "--images", dir + "/images", "--max-tokens", "12", "--out", out};
}

size_t lines_in(const std::string& path) {
  std::string s = read_whole(path);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(NginxFailover, EvalSurvivesAReplicaKilledAndRestarted) {
  const std::string dir = test::make_temp_dir("nginx");
  const int n = 48;
  write_coco_set(dir, n);
  std::vector<int> ports = {test::unused_port(), test::unused_port(), test::unused_port()};
  const int nginx_port = test::unused_port();
  std::vector<std::unique_ptr<Subprocess>> replicas;
  for (int p : ports) replicas.push_back(start_replica(p));

  // The reference: the same evaluation against one replica directly.
  auto ref = test::run_command(eval_args(dir, "http://127.0.0.1:" + std::to_string(ports[0]), dir + "/direct"));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;

  auto nginx = start_nginx(dir + "/nginx", templated_example(ports, nginx_port), nginx_port);
  const std::string via_nginx = "http://127.0.0.1:" + std::to_string(nginx_port);

  // The evaluation through nginx, 3 requests in flight; replica 2 dies after a quarter of
  // the images and comes back after half.
  const std::string out = dir + "/through_nginx";
  std::atomic<bool> finished{false};
  test::CommandResult run;
  std::thread eval([&] {
    auto args = eval_args(dir, via_nginx, out);
    args.insert(args.end(), {"--concurrency", "3"});
    run = test::run_command(args);
    finished = true;
  });
  size_t at_kill = 0, at_restart = 0;
  while (!finished && lines_in(out + "/predictions.jsonl") < n / 4) std::this_thread::sleep_for(2ms);
  at_kill = lines_in(out + "/predictions.jsonl");
  replicas[1]->signal(SIGKILL);
  replicas[1]->wait();
  while (!finished && lines_in(out + "/predictions.jsonl") < n / 2) std::this_thread::sleep_for(2ms);
  at_restart = lines_in(out + "/predictions.jsonl");
  replicas[1] = start_replica(ports[1]);
  eval.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_LT(at_kill, static_cast<size_t>(n)) << "the replica died after the evaluation ended";
  EXPECT_LT(at_restart, static_cast<size_t>(n)) << "the replica came back after the evaluation ended";

  // Exactly once each, and the same captions and scores as the direct run.
  std::set<std::string> ids;
  std::istringstream lines(read_whole(out + "/predictions.jsonl"));
  size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) ids.insert(parse_json(line, "line").at("image_id"));
  EXPECT_EQ(count, static_cast<size_t>(n));
  EXPECT_EQ(ids.size(), static_cast<size_t>(n));
  EXPECT_EQ(read_whole(out + "/results.json"), read_whole(dir + "/direct/results.json"));
  EXPECT_EQ(read_whole(out + "/metrics.json"), read_whole(dir + "/direct/metrics.json"));
  // nginx saw the dead replica (a refused or cut connection) and went on.
  const std::string log = read_whole(dir + "/nginx/logs/error.log");
  EXPECT_NE(log.find("127.0.0.1:" + std::to_string(ports[1])), std::string::npos) << log;

  // The restarted replica takes requests again once its rest (fail_timeout) is over.
  Json body = {{"messages", Json::array({{{"role", "user"}, {"content", "Hello there"}}})},
               {"max_tokens", 4}, {"temperature", 0}};
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (completions_served(ports[1]) <= 0 && std::chrono::steady_clock::now() < deadline) {
    std::vector<std::thread> clients;
    for (int i = 0; i < 3; ++i) {
      clients.emplace_back([&] {
        httplib::Client c("127.0.0.1", nginx_port);
        c.set_read_timeout(30, 0);
        auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
        EXPECT_TRUE(r && r->status == 200);
      });
    }
    for (auto& t : clients) t.join();
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GT(completions_served(ports[1]), 0) << "the restarted replica got no request";

  // A streamed answer passes through event by event, with the same text as a
  // non-streamed one (greedy).
  Json stream_body = {{"messages", Json::array({{{"role", "user"}, {"content", "Count slowly"}}})},
                      {"max_tokens", 120}, {"temperature", 0}, {"stream", true}};
  httplib::Client c("127.0.0.1", nginx_port);
  c.set_read_timeout(60, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.set_header("Content-Type", "application/json");
  req.body = stream_body.dump();
  std::string raw;
  int reads = 0;
  req.content_receiver = [&](const char* d, size_t len, uint64_t, uint64_t) {
    raw.append(d, len);
    ++reads;
    return true;
  };
  auto r = c.send(req);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("text/event-stream", 0), 0u);
  std::string text, finish_reason;
  size_t events = 0;
  bool done = false;
  for (size_t pos = 0; (pos = raw.find("data: ", pos)) != std::string::npos; ++events) {
    size_t end = raw.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos) << "an event cut short: " << raw.substr(pos);
    std::string payload = raw.substr(pos + 6, end - pos - 6);
    pos = end;
    if (payload == "[DONE]") {
      done = true;
      EXPECT_EQ(raw.substr(end), "\n\n") << "something after [DONE]";
      break;
    }
    Json e = parse_json(payload, "event");
    ASSERT_FALSE(e.contains("error")) << payload;
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("content"))
      text += e["choices"][0]["delta"]["content"].get<std::string>();
    if (!e["choices"].empty() && e["choices"][0].value("finish_reason", Json()).is_string()) {
      EXPECT_EQ(finish_reason, "") << "a second final event";
      finish_reason = e["choices"][0]["finish_reason"].get<std::string>();
    }
  }
  // Nothing lost, nothing twice: the stream ends once, with [DONE] after one final event,
  // and its text is the non-streamed answer's (below). How many events the text comes in
  // depends on the load (text that piles up between two writes goes out as one event).
  EXPECT_TRUE(done) << "the stream ended without [DONE]";
  EXPECT_FALSE(finish_reason.empty()) << "no final event with a finish_reason";
  EXPECT_GT(events, 30u);
  // Passed on as they come, the events arrive in about as many reads as there are
  // events (gathered up anywhere on the way, they would come in a few large pieces).
  EXPECT_GT(reads, static_cast<int>(events) / 2) << "the stream was gathered up on its way";
  stream_body["stream"] = false;
  auto whole = c.Post("/v1/chat/completions", stream_body.dump(), "application/json");
  ASSERT_TRUE(whole && whole->status == 200);
  EXPECT_EQ(text, parse_json(whole->body, "reply").at("choices")[0].at("message").at("content").get<std::string>());

  nginx->signal(SIGQUIT);  // graceful stop
  EXPECT_EQ(nginx->wait(), 0);
  for (auto& p : replicas) {
    p->signal(SIGTERM);
    p->wait();
  }
}

}  // namespace
}  // namespace kantu
