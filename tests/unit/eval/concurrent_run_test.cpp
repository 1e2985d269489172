// run_captioning with several captions in flight over flaky endpoints: every image is
// recorded exactly once, the results equal a one-at-a-time run, and a run that stops
// on a failure resumes to the same files.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "core/base64.h"
#include "core/error.h"
#include "core/json.h"
#include "eval/endpoint_backend.h"
#include "eval/run_store.h"
#include "eval/runner.h"
#include "support/fault_server.h"
#include "support/testdata.h"

namespace kantu::eval {
namespace {

using test::FaultServer;
using Fault = FaultServer::Fault;

struct CocoSet {
  std::string dir, annotations, images;
  std::map<std::string, std::string> caption_of_b64;  // image bytes (base64) -> caption
};

CocoSet make_coco_set(int n) {
  CocoSet s;
  s.dir = test::make_temp_dir("concurrent_run");
  s.images = s.dir + "/images";
  std::filesystem::create_directories(s.images);
  Json ann = {{"images", Json::array()}, {"annotations", Json::array()}};
  const char* things[] = {"cat", "dog", "bus", "tree", "boat", "kite", "cake"};
  for (int i = 0; i < n; ++i) {
    std::string thing = things[i % 7];
    std::string file = "im" + std::to_string(i) + ".jpg";
    std::string bytes = "image " + std::to_string(i) + " of a " + thing;
    test::write_text_file(s.images + "/" + file, bytes);
    s.caption_of_b64[base64_encode(bytes)] = "a " + thing + " number " + std::to_string(i);
    ann["images"].push_back({{"id", 500 + i}, {"file_name", file}});
    ann["annotations"].push_back({{"image_id", 500 + i}, {"caption", "a " + thing + " here"}});
  }
  s.annotations = s.dir + "/captions.json";
  test::write_text_file(s.annotations, ann.dump());
  return s;
}

std::string caption_for(const CocoSet& s, const std::string& body) {
  Json j = Json::parse(body);
  std::string url = j.at("messages")[0].at("content")[0].at("image_url").at("url");
  return s.caption_of_b64.at(url.substr(url.find(',') + 1));
}

FaultServer::Reply ok_reply(const std::string& text) {
  Json reply = {{"choices", {{{"message", {{"role", "assistant"}, {"content", text}}}}}}};
  return {Fault::kNone, 200, reply.dump(), {}, 0};
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> logged_ids(const std::string& dir) {
  std::vector<std::string> ids;
  std::istringstream lines(read_text(dir + "/predictions.jsonl"));
  for (std::string line; std::getline(lines, line);) ids.push_back(Json::parse(line).at("image_id"));
  return ids;
}

EndpointOptions quick(std::vector<std::string> urls) {
  EndpointOptions o;
  o.urls = std::move(urls);
  o.model = "fake";
  o.timeout_s = 2;
  o.max_attempts = 20;
  o.backoff_s = 0.005;
  o.max_backoff_s = 0.02;
  o.pool.down_seconds = 0.05;
  o.pool.max_down_seconds = 0.2;
  return o;
}

RunOptions run_options(const CocoSet& s, const std::string& out, int concurrency) {
  RunOptions o;
  o.annotations = s.annotations;
  o.images_dir = s.images;
  o.out_dir = out;
  o.concurrency = concurrency;
  return o;
}

TEST(ConcurrentRun, FlakyEndpointsStillGiveEveryImageExactlyOnce) {
  CocoSet set = make_coco_set(40);
  FaultServer steady([&](const FaultServer::Request& r) { return ok_reply(caption_for(set, r.body)); });
  EndpointBackend one(quick({steady.url()}));
  RunSummary reference = run_captioning(one, run_options(set, set.dir + "/one", 1));
  ASSERT_EQ(reference.captioned, 40u);

  // Two servers failing a third of the requests in every way a network can.
  std::mutex mu;
  std::mt19937 rng(7);
  auto flaky = [&](const FaultServer::Request& r) {
    int roll;
    {
      std::lock_guard lock(mu);
      roll = static_cast<int>(rng() % 12);
    }
    switch (roll) {
      case 0: return FaultServer::Reply{Fault::kReset, 200, "", {}, 0};
      case 1: return FaultServer::Reply{Fault::kTruncate, 200, ok_reply("cut short").body, {}, 0};
      case 2: return FaultServer::Reply{Fault::kNone, 503, "{}", {{"Retry-After", "0"}}, 0};
      case 3: return FaultServer::Reply{Fault::kNone, 502, "", {}, 0};
      default: return ok_reply(caption_for(set, r.body));
    }
  };
  FaultServer a(flaky), b(flaky);
  EndpointBackend two(quick({a.url(), b.url()}));
  RunSummary many = run_captioning(two, run_options(set, set.dir + "/many", 6));
  EXPECT_EQ(many.captioned, 40u);
  EXPECT_GT(two.retries(), 0);
  std::vector<std::string> ids = logged_ids(set.dir + "/many");
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 40u);
  EXPECT_EQ(read_text(set.dir + "/many/results.json"), read_text(set.dir + "/one/results.json"));
  EXPECT_EQ(read_text(set.dir + "/many/metrics.json"), read_text(set.dir + "/one/metrics.json"));
}

TEST(ConcurrentRun, AFailureStopsTheRunKeepsWhatIsDoneAndResumes) {
  CocoSet set = make_coco_set(30);
  std::atomic<int> served{0};
  std::atomic<bool> broken{true};
  FaultServer server([&](const FaultServer::Request& r) {
    // The 11th request onwards: a 400 (nothing to retry) until the server is "fixed".
    if (broken && served.fetch_add(1) >= 10)
      return FaultServer::Reply{Fault::kNone, 400, R"({"error":"no"})", {}, 0.02};
    return ok_reply(caption_for(set, r.body));
  });
  const std::string out = set.dir + "/run";
  EndpointBackend backend(quick({server.url()}));
  try {
    run_captioning(backend, run_options(set, out, 4));
    ADD_FAILURE() << "the run did not stop";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 400"), std::string::npos) << e.what();
  }
  std::vector<std::string> first = logged_ids(out);
  EXPECT_EQ(first.size(), 10u);  // the ten answered before the failures, no more
  broken = false;
  const int before = server.requests();
  EndpointBackend again(quick({server.url()}));
  RunSummary s = run_captioning(again, run_options(set, out, 4));
  EXPECT_EQ(s.resumed, 10u);
  EXPECT_EQ(s.captioned, 20u);
  EXPECT_EQ(server.requests() - before, 20);
  std::vector<std::string> all = logged_ids(out);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 30u);
  EXPECT_EQ(all.size(), 30u);
  EXPECT_EQ(read_json_file(out + "/results.json").size(), 30u);
}

TEST(ConcurrentRun, TwoWritersOfOneRunAreRefusedAndTheLocalEngineRunsOneAtATime) {
  CocoSet set = make_coco_set(3);
  const std::string out = set.dir + "/locked";
  std::filesystem::create_directories(out);
  {
    PredictionLog holder(out);
    EXPECT_THROW(PredictionLog second(out), Error);
  }
  PredictionLog after(out);  // released with the first

  class OneAtATime : public CaptionBackend {
   public:
    std::string model_name() const override { return "m"; }
    std::string kind() const override { return "local"; }
    Caption caption(const CaptionRequest&) override { return {}; }
    std::optional<double> peak_memory_mb() const override { return std::nullopt; }
  } local;
  try {
    run_captioning(local, run_options(set, set.dir + "/local", 2));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--concurrency 2 needs --endpoint"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kantu::eval
