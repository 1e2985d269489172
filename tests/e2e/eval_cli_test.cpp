// `kantu eval ...` end to end: tokenize, score against the goldens, and run / resume /
// shard / merge / report against a fake OpenAI server started inside the test.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "core/base64.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;
using test::run_command;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

test::CommandResult kantu(std::vector<std::string> args) {
  args.insert(args.begin(), KANTU_EXE);
  return run_command(args);
}

TEST(EvalCli, TokenizePrintsThePtbString) {
  auto r = kantu({"eval", "tokenize", "A man (in a red hat) isn't here..."});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out, "out").at("tokenized"), "a man -lrb- in a red hat -rrb- is n't here");
  std::string dir = test::make_temp_dir("tok");
  test::write_text_file(dir + "/c.txt", "Two dogs' toys\non a mat.");
  r = kantu({"eval", "tokenize", "--file", dir + "/c.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out, "out").at("tokenized"), "two dogs toys on a mat");
  EXPECT_NE(kantu({"eval", "tokenize"}).exit_code, 0);
  EXPECT_NE(kantu({"eval", "tokenize", "--file", dir + "/missing.txt"}).exit_code, 0);
}

TEST(EvalCli, ScoreMatchesTheCocoDemoGolden) {
  const std::string data = test::testdata("data/coco-captions-demo1000/");
  const Json golden =
      read_json_file(test::testdata("goldens/metrics/coco_demo1000_scores.json")).at("corpora")[0];
  std::string dir = test::make_temp_dir("score");
  auto r = kantu({"eval", "score", "--annotations", data + "en_captions_val2014.json", "--results",
                  data + "en_captions_val2014_fakecap_results.json", "--json", "--per-image",
                  dir + "/per_image.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json out = parse_json(r.out, "stdout");
  for (const auto& [k, v] : golden.at("corpus").items()) {
    if (k == "bleu_stats") EXPECT_EQ(out.at("bleu_stats"), v);
    else EXPECT_NEAR(out.at("corpus").at(k).get<double>(), v.get<double>(), 1e-9) << k;
  }
  EXPECT_FALSE(out.at("corpus").contains("METEOR"));
  Json per_image = read_json_file(dir + "/per_image.json");
  ASSERT_EQ(per_image.size(), 1000u);
  EXPECT_NEAR(per_image.at("404464").at("CIDEr").get<double>(),
              golden.at("per_image").at("404464").at("CIDEr").get<double>(), 1e-9);
  // The table says what was not computed.
  r = kantu({"eval", "score", "--annotations", data + "en_captions_val2014.json", "--results",
             data + "en_captions_val2014_fakecap_results.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("METEOR   not computed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SPICE    not computed"), std::string::npos) << r.out;
}

// A small COCO set of images whose "pixels" are text, and a fake server captioning them.
struct Fixture {
  std::string dir, annotations, images;
  std::map<std::string, std::string> caption_by_b64;
};

Fixture make_fixture() {
  Fixture f;
  f.dir = test::make_temp_dir("evalrun");
  f.images = f.dir + "/images";
  fs::create_directories(f.images);
  const char* things[] = {"cat", "dog", "bus", "tree", "boat", "horse", "pizza"};
  Json ann = {{"images", Json::array()}, {"annotations", Json::array()}};
  for (int i = 0; i < 7; ++i) {
    std::string file = "img" + std::to_string(i) + (i % 2 ? ".png" : ".jpg");
    std::string bytes = std::string("fake image of a ") + things[i];
    test::write_text_file(f.images + "/" + file, bytes);
    f.caption_by_b64[base64_encode(bytes)] = std::string("A ") + things[i] + " on the grass.";
    ann["images"].push_back({{"id", 100 + i}, {"file_name", file}});
    ann["annotations"].push_back({{"image_id", 100 + i}, {"caption", std::string("a ") + things[i] + " on grass"}});
    ann["annotations"].push_back({{"image_id", 100 + i}, {"caption", std::string("the ") + things[i] + " is outside"}});
  }
  f.annotations = f.dir + "/captions.json";
  test::write_text_file(f.annotations, ann.dump());
  return f;
}

class FakeOpenAi {
 public:
  explicit FakeOpenAi(const Fixture& f) : captions_(f.caption_by_b64) {
    server_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      if (fail_after_ >= 0 && served_ >= fail_after_) {
        res.status = 500;
        res.set_content("{\"error\": \"overloaded\"}", "application/json");
        return;
      }
      if (mode_ == "garbage") {
        res.set_content("{\"choices\": []}", "application/json");
        return;
      }
      Json body = Json::parse(req.body);
      std::string url = body.at("messages")[0].at("content")[0].at("image_url").at("url");
      std::string b64 = url.substr(url.find(',') + 1);
      auto it = captions_.find(b64);
      std::string caption = it == captions_.end() ? "unknown image" : it->second;
      ++served_;
      Json reply = {{"choices", {{{"message", {{"role", "assistant"}, {"content", caption}}}}}},
                    {"usage", {{"prompt_tokens", 20}, {"completion_tokens", 6}}}};
      res.set_content(reply.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAi() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void fail_after(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_after_ = n;
    served_ = 0;
  }
  void set_mode(const std::string& m) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
  }

 private:
  std::map<std::string, std::string> captions_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  int requests_ = 0, served_ = 0, fail_after_ = -1;
  std::string mode_ = "ok";
};

std::vector<std::string> run_args(const Fixture& f, const FakeOpenAi& server, const std::string& out) {
  return {"eval", "run", "--endpoint", server.url(), "--model", "fake-vlm", "--annotations",
          f.annotations, "--images", f.images, "--out", out};
}

size_t line_count(const std::string& path) {
  std::string s = slurp(path);
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(EvalCli, RunResumesShardsMergesAndReports) {
  Fixture f = make_fixture();
  FakeOpenAi server(f);

  // A full run.
  std::string full = f.dir + "/full";
  auto r = kantu(run_args(f, server, full));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.requests(), 7);
  Json results = read_json_file(full + "/results.json");
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(results[0].at("image_id"), 100);
  EXPECT_EQ(results[0].at("caption"), "A cat on the grass.");
  EXPECT_GT(read_json_file(full + "/metrics.json").at("corpus").at("Bleu_1").get<double>(), 0.5);
  EXPECT_EQ(read_json_file(full + "/run.json").at("peak_memory_mb"), "unknown");
  EXPECT_NE(r.err.find("7/7"), std::string::npos) << r.err;  // the progress line

  // Killed after 3 images (the server starts failing), plus a torn last line.
  std::string resumed = f.dir + "/resumed";
  server.fail_after(3);
  r = kantu(run_args(f, server, resumed));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("HTTP 500"), std::string::npos) << r.err;
  EXPECT_EQ(line_count(resumed + "/predictions.jsonl"), 3u);
  {
    std::ofstream torn(resumed + "/predictions.jsonl", std::ios::app);
    torn << "{\"image_id\": \"103\", \"capt";
  }
  server.fail_after(-1);
  int before = server.requests();
  r = kantu(run_args(f, server, resumed));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json summary = parse_json(r.out, "stdout");
  EXPECT_EQ(summary.at("resumed"), 3);
  EXPECT_EQ(summary.at("captioned"), 4);
  EXPECT_EQ(summary.at("dropped_torn_line"), true);
  EXPECT_EQ(server.requests() - before, 4);
  EXPECT_EQ(slurp(resumed + "/results.json"), slurp(full + "/results.json"));
  EXPECT_EQ(slurp(resumed + "/metrics.json"), slurp(full + "/metrics.json"));
  // Running a finished run again captions nothing.
  before = server.requests();
  ASSERT_EQ(kantu(run_args(f, server, resumed)).exit_code, 0);
  EXPECT_EQ(server.requests(), before);
  // A different run into the same directory is refused.
  auto other = run_args(f, server, resumed);
  other.insert(other.end(), {"--prompt", "Something else"});
  r = kantu(other);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("different run"), std::string::npos) << r.err;

  // Shards 1/2 and 2/2, merged, give exactly the single run's files.
  for (const char* shard : {"1/2", "2/2"}) {
    auto args = run_args(f, server, f.dir + "/shard" + std::string(1, shard[0]));
    args.insert(args.end(), {"--shard", shard});
    r = kantu(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(read_json_file(f.dir + "/shard1/results.json").size(), 4u);
  EXPECT_EQ(read_json_file(f.dir + "/shard2/results.json").size(), 3u);
  r = kantu({"eval", "merge", f.dir + "/shard2", f.dir + "/shard1", "--out", f.dir + "/merged"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(f.dir + "/merged/results.json"), slurp(full + "/results.json"));
  EXPECT_EQ(slurp(f.dir + "/merged/metrics.json"), slurp(full + "/metrics.json"));
  r = kantu({"eval", "merge", f.dir + "/shard1", "--out", f.dir + "/bad"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("shard 2/2 is missing"), std::string::npos) << r.err;

  // Report over two runs.
  r = kantu({"eval", "report", full, f.dir + "/merged", "--out", f.dir + "/report"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fake-vlm"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Not computed: METEOR SPICE"), std::string::npos) << r.out;
  std::string html = slurp(f.dir + "/report/report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);  // nothing to fetch
  EXPECT_EQ(read_json_file(f.dir + "/report/report.json").at("runs").size(), 2u);
  EXPECT_FALSE(slurp(f.dir + "/report/report.md").empty());
}

// Environment variables for the children run inside one scope.
class ScopedEnv {
 public:
  explicit ScopedEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {
    for (const auto& [k, v] : vars_) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : vars_) ::unsetenv(k.c_str());
  }

 private:
  std::map<std::string, std::string> vars_;
};

TEST(EvalCli, ArrayTasksOverSeveralEndpointsMergeIntoTheSingleRun) {
  Fixture f = make_fixture();
  FakeOpenAi a(f), b(f);
  const std::string full = f.dir + "/full";
  ASSERT_EQ(kantu(run_args(f, a, full)).exit_code, 0);
  // A Slurm array of 2 (--array=1-2), each task with 2 endpoints and 3 requests in flight.
  for (const char* task : {"1", "2"}) {
    ScopedEnv env({{"SLURM_ARRAY_TASK_ID", task}, {"SLURM_ARRAY_TASK_COUNT", "2"}, {"SLURM_ARRAY_TASK_MIN", "1"}});
    auto args = run_args(f, a, f.dir + "/task" + task);
    args[3] = a.url() + "," + b.url();
    args.insert(args.end(), {"--concurrency", "3", "--shard", "auto"});
    auto r = kantu(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Json out = parse_json(r.out, "stdout");
    EXPECT_EQ(out.at("shard"), std::string(task) + "/2");
    ASSERT_EQ(out.at("endpoints").size(), 2u);
    EXPECT_EQ(out.at("endpoints")[0].at("url"), a.url());
    EXPECT_EQ(out.at("retries"), 0);
  }
  EXPECT_EQ(a.requests() + b.requests(), 7 + 7);
  EXPECT_GT(b.requests(), 0);
  auto r = kantu({"eval", "merge", f.dir + "/task1", f.dir + "/task2", "--out", f.dir + "/merged"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(f.dir + "/merged/results.json"), slurp(full + "/results.json"));
  EXPECT_EQ(slurp(f.dir + "/merged/metrics.json"), slurp(full + "/metrics.json"));

  // Outside an array job, --shard auto says what it looks for.
  auto args = run_args(f, a, f.dir + "/noenv");
  args.insert(args.end(), {"--shard", "auto"});
  r = kantu(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("JOB_COMPLETION_INDEX"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << r.err;
  {
    ScopedEnv env(std::map<std::string, std::string>{{"JOB_COMPLETION_INDEX", "2"}});
    r = kantu(args);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("JOB_COMPLETIONS is not"), std::string::npos) << r.err;
  }
  // The in-process engine runs one caption at a time.
  r = kantu({"eval", "run", "-m", test::testdata("models/qwen3vl-tiny-a"), "--concurrency", "2", "--annotations",
             f.annotations, "--images", f.images, "--out", f.dir + "/local"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs --endpoint"), std::string::npos) << r.err;
}

TEST(EvalCli, RunReportsEndpointFailuresClearly) {
  Fixture f = make_fixture();
  FakeOpenAi server(f);
  server.set_mode("garbage");
  auto r = kantu(run_args(f, server, f.dir + "/garbage"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("choices[0].message.content"), std::string::npos) << r.err;

  auto args = run_args(f, server, f.dir + "/refused");
  args[3] = "http://127.0.0.1:1";  // nothing listens there
  r = kantu(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("request failed"), std::string::npos) << r.err;

  args = run_args(f, server, f.dir + "/badimages");
  args[9] = f.dir + "/nowhere";
  r = kantu(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;

  args = run_args(f, server, f.dir + "/badshard");
  args.insert(args.end(), {"--shard", "3/2"});
  EXPECT_NE(kantu(args).exit_code, 0);
  EXPECT_NE(kantu({"eval", "run", "--annotations", f.annotations, "--images", f.images, "--out", f.dir + "/x"}).exit_code, 0);
  EXPECT_NE(kantu({"eval", "report", f.dir + "/garbage"}).exit_code, 0);
}

TEST(EvalCli, ScoreRejectsBadInput) {
  Fixture f = make_fixture();
  auto score = [&](const std::string& results_text, std::vector<std::string> extra = {}) {
    test::write_text_file(f.dir + "/res.json", results_text);
    std::vector<std::string> args = {"eval", "score", "--annotations", f.annotations, "--results", f.dir + "/res.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return kantu(args);
  };
  const std::string good = R"([{"image_id": 100, "caption": "a cat"}, {"image_id": 101, "caption": "a dog"}])";
  ASSERT_EQ(score(good).exit_code, 0);
  struct Case { std::string text, needle; };
  for (const Case& c : std::vector<Case>{{"[", "invalid JSON"},
                                         {"[]", "empty"},
                                         {R"([{"image_id": 999, "caption": "x"}])", "no annotation"},
                                         {R"([{"image_id": 100, "caption": "x"}, {"image_id": 100, "caption": "y"}])", "second result"},
                                         {R"([{"image_id": 100}])", "caption"}}) {
    auto r = score(c.text);
    EXPECT_NE(r.exit_code, 0) << c.text;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.text << " -> " << r.err;
  }
  auto r = score(good, {"--meteor-jar", f.dir + "/no-such-meteor.jar"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("METEOR jar not found"), std::string::npos) << r.err;
  test::write_text_file(f.dir + "/fake.jar", "not a zip");
  r = score(good, {"--spice-jar", f.dir + "/fake.jar"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a jar"), std::string::npos) << r.err;
  test::write_text_file(f.dir + "/bad_ann.json", "{\"annotations\": 5}");
  r = kantu({"eval", "score", "--annotations", f.dir + "/bad_ann.json", "--results", f.dir + "/res.json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not a COCO caption file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kantu

namespace kantu {
namespace {

// The in-process engine on a tiny real-format model: every image gets a caption with the
// engine's own per-stage timings and a known peak memory, and the run scores itself.
TEST(EvalCli, LocalModelRunCaptionsEveryImage) {
  std::string dir = test::make_temp_dir("evallocal");
  const std::string images = test::testdata("images");
  Json ann = {{"images", Json::array()}, {"annotations", Json::array()}};
  const char* files[] = {"grad_256x256.png", "strokes_256x256.jpg", "model_sq_224x224.png"};
  for (int i = 0; i < 3; ++i) {
    ann["images"].push_back({{"id", i + 1}, {"file_name", files[i]}});
    ann["annotations"].push_back({{"image_id", i + 1}, {"caption", "a test picture"}});
  }
  test::write_text_file(dir + "/captions.json", ann.dump());
  auto r = kantu({"eval", "run", "-m", test::testdata("models/qwen3vl-tiny-a"), "--annotations",
                  dir + "/captions.json", "--images", images, "--max-tokens", "4", "--threads",
                  "2", "--out", dir + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json results = read_json_file(dir + "/run/results.json");
  ASSERT_EQ(results.size(), 3u);
  std::ifstream in(dir + "/run/predictions.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    Json p = parse_json(line, "prediction");
    EXPECT_GT(p.at("image_encode_ms").get<double>(), 0.0) << line;
    EXPECT_GT(p.at("prefill_ms").get<double>(), 0.0) << line;
    ++n;
  }
  EXPECT_EQ(n, 3);
  Json run = read_json_file(dir + "/run/run.json");
  ASSERT_TRUE(run.at("peak_memory_mb").is_number()) << run.dump();
  EXPECT_GT(run.at("peak_memory_mb").get<double>(), 0.0);
  EXPECT_TRUE(read_json_file(dir + "/run/metrics.json").contains("corpus"));

  // A missing model folder is a clear error, not a crash.
  r = kantu({"eval", "run", "-m", dir + "/no-model", "--annotations", dir + "/captions.json",
             "--images", images, "--out", dir + "/run2"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kantu
