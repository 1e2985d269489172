// Models by name end to end, against the mock Hub over loopback: `kantu run -m ORG/NAME`
// from nothing to an answer in one command, the cache read without network afterwards,
// GGUF tags, pull/list/rm, an interrupted pull resumed, two pulls at once, the progress
// bar on a terminal, and the errors a user meets.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "core/mapped_file.h"
#include "core/subprocess.h"
#include "support/env_scope.h"
#include "support/gguf_pair.h"
#include "support/mock_hub.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;
using test::MockHub;

const std::string kCommit = "c0ffee0123456789abcdef0123456789abcdef01";

// The Hub environment of the kantu child processes (restored afterwards).
class HubEnv : public test::EnvScope {
 public:
  HubEnv(const std::string& endpoint, const std::string& cache)
      : EnvScope({"HF_ENDPOINT", "HF_HUB_CACHE", "HF_HOME", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                  "HF_HUB_OFFLINE", "HF_HUB_DOWNLOAD_TIMEOUT", "HF_HUB_ETAG_TIMEOUT", "XDG_CACHE_HOME"}) {
    set("HF_ENDPOINT", endpoint);
    set("HF_HUB_CACHE", cache);
    set("HF_HOME", cache + "/../hf_home");     // no stray token file
    set("XDG_CACHE_HOME", cache + "/../xdg");  // converted weights, if any
  }

 private:
  test::ProxyEnvScope no_proxies_;
};

std::vector<std::string> kantu_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {KANTU_EXE};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

test::CommandResult run_hub_kantu(const std::vector<std::string>& args) { return test::run_command(kantu_argv(args)); }

std::vector<std::string> greedy_args(const std::string& model, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", "-m", model, "-p", "Describe the picture.", "--json",
                                   "--temperature", "0", "-n", "6", "--threads", "2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<Json> hub_json_lines(const std::string& out) {
  std::vector<Json> lines;
  std::stringstream s(out);
  for (std::string line; std::getline(s, line);)
    if (!line.empty()) lines.push_back(parse_json(line, "kantu output line"));
  return lines;
}

test::MockRepo tiny_c_repo() {
  return test::mock_repo_from_folder("tiny-org/qwen3vl-tiny-c", test::testdata("models/qwen3vl-tiny-c"), kCommit);
}

std::string snapshot(const std::string& cache, const std::string& folder) {
  return cache + "/" + folder + "/snapshots/" + kCommit;
}

// The tiny model on a mock Hub whose CDN pauses `chunk_delay_ms` per 64 KiB, and a fresh
// cache in the environment of the kantu processes.
struct TinyHub {
  explicit TinyHub(int chunk_delay_ms)
      : cache(test::make_temp_dir("hub_e2e") + "/hub"), env(hub.endpoint(), cache) {
    hub.add_repo(tiny_c_repo());
    test::MockFaults slow;
    slow.chunk_delay_ms = chunk_delay_ms;
    hub.set_faults(slow);
  }
  MockHub hub;
  std::string cache;
  HubEnv env;
};

TEST(HubCli, FromAModelNameToAnAnswerInOneCommand) {
  MockHub hub;
  hub.add_repo(tiny_c_repo());
  const std::string cache = test::make_temp_dir("hub_e2e") + "/hub";
  HubEnv env(hub.endpoint(), cache);

  const auto named = run_hub_kantu(greedy_args("tiny-org/qwen3vl-tiny-c"));
  ASSERT_EQ(named.exit_code, 0) << named.err;
  const auto local = run_hub_kantu(greedy_args(test::testdata("models/qwen3vl-tiny-c")));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(parse_json(named.out, "named")["ids"], parse_json(local.out, "local")["ids"]);
  EXPECT_EQ(named.err.find("ETA"), std::string::npos) << "no progress bar when stderr is not a terminal";
  // Only what kantu needs was fetched, and nothing was written into the snapshot.
  const std::string snap = snapshot(cache, "models--tiny-org--qwen3vl-tiny-c");
  EXPECT_TRUE(fs::exists(snap + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(snap + "/GENERATION_INFO.json"));
  EXPECT_FALSE(fs::exists(snap + "/.kantu"));

  // The cache answers from now on: the Hub could be gone.
  env.set("HF_ENDPOINT", "http://127.0.0.1:9");
  const int api_calls = hub.api_calls();
  const auto again = run_hub_kantu(greedy_args("tiny-org/qwen3vl-tiny-c", {"--no-pull"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_json(again.out, "again")["ids"], parse_json(local.out, "local")["ids"]);
  const auto info = run_hub_kantu({"info", "-m", "tiny-org/qwen3vl-tiny-c"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(parse_json(info.out, "info")["model_dir"], snap);
  EXPECT_EQ(hub.api_calls(), api_calls);

  // kantu serve names the model as the Hub does (not by its commit).
  {
    Subprocess serve({KANTU_EXE, "serve", "-m", "tiny-org/qwen3vl-tiny-c", "--port", "0", "--threads", "1"}, ".");
    std::string ready;
    for (int i = 0; i < 5 && ready.find("\"ready\"") == std::string::npos; ++i) ready = serve.read_line(60);
    EXPECT_NE(ready.find("\"model\":\"tiny-org/qwen3vl-tiny-c\""), std::string::npos) << ready;
    serve.signal(SIGTERM);
    serve.wait();
  }

  // --no-pull refuses what the cache lacks.
  const auto refused = run_hub_kantu(greedy_args("tiny-org/other", {"--no-pull"}));
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_NE(refused.err.find("kantu pull tiny-org/other"), std::string::npos) << refused.err;
}

TEST(HubCli, ALocalFolderWinsOverAName) {
  const std::string dir = test::make_temp_dir("hub_local");
  fs::create_directories(dir + "/tiny-org");
  fs::create_symlink(test::testdata("models/qwen3vl-tiny-c"), dir + "/tiny-org/qwen3vl-tiny-c");
  HubEnv env("http://127.0.0.1:9", dir + "/hub");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  const auto r = run_hub_kantu(greedy_args("tiny-org/qwen3vl-tiny-c"));
  fs::current_path(cwd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir + "/hub"));
}

TEST(HubCli, PullListRm) {
  MockHub hub;
  hub.add_repo(tiny_c_repo());
  const std::string cache = test::make_temp_dir("hub_e2e") + "/hub";
  HubEnv env(hub.endpoint(), cache);

  auto r = run_hub_kantu({"pull", "tiny-org/qwen3vl-tiny-c", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<Json> lines = hub_json_lines(r.out);
  ASSERT_EQ(lines.size(), 11u) << r.out;  // 10 files + the snapshot
  std::vector<std::string> files;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    files.push_back(lines[i]["file"]);
    EXPECT_EQ(lines[i]["status"], "downloaded") << lines[i];
  }
  EXPECT_EQ(files, (std::vector<std::string>{"chat_template.json", "config.json", "generation_config.json",
                                             "merges.txt", "model.safetensors", "preprocessor_config.json",
                                             "tokenizer.json", "tokenizer_config.json",
                                             "video_preprocessor_config.json", "vocab.json"}));
  EXPECT_EQ(lines[4]["sha256_verified"], true);
  EXPECT_EQ(lines.back()["commit"], kCommit);
  EXPECT_EQ(lines.back()["path"], snapshot(cache, "models--tiny-org--qwen3vl-tiny-c"));

  r = run_hub_kantu({"pull", "tiny-org/qwen3vl-tiny-c", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = hub_json_lines(r.out);
  for (size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i]["status"], "cached") << lines[i];
  EXPECT_EQ(lines.back()["bytes_downloaded"], 0);

  r = run_hub_kantu({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json list = parse_json(r.out, "list");
  ASSERT_EQ(list.size(), 1u) << r.out;
  EXPECT_EQ(list[0]["name"], "tiny-org/qwen3vl-tiny-c");
  EXPECT_EQ(list[0]["refs"], Json::array({"main"}));
  EXPECT_EQ(list[0]["weight_types"], Json::array({"BF16"}));
  EXPECT_GT(list[0]["bytes"].get<int64_t>(), 25000000);
  r = run_hub_kantu({"list"});
  EXPECT_NE(r.out.find("tiny-org/qwen3vl-tiny-c"), std::string::npos) << r.out;

  r = run_hub_kantu({"rm", "tiny-org/qwen3vl-tiny-c"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(cache + "/models--tiny-org--qwen3vl-tiny-c"));
  EXPECT_EQ(parse_json(run_hub_kantu({"list", "--json"}).out, "list"), Json::array());
  r = run_hub_kantu({"rm", "tiny-org/qwen3vl-tiny-c"});
  EXPECT_EQ(r.exit_code, 3);
}

TEST(HubCli, GgufTagPullsThatQuantizationAndItsMmproj) {
  const std::string work = test::make_temp_dir("hub_gguf");
  fs::create_directories(work + "/q8");
  fs::create_directories(work + "/bf16");
  const test::GgufPair q8 = test::write_gguf_pair(test::testdata("models/qwen3vl-tiny-a"), work + "/q8", DType::kQ8_0);
  const test::GgufPair bf16 = test::write_gguf_pair(test::testdata("models/qwen3vl-tiny-a"), work + "/bf16", DType::kBF16);
  fs::create_directories(work + "/repo");
  fs::copy_file(q8.model, work + "/repo/tiny-vl-Q8_0.gguf");
  fs::copy_file(bf16.model, work + "/repo/tiny-vl-BF16.gguf");
  fs::copy_file(bf16.mmproj, work + "/repo/mmproj-tiny-vl-F16.gguf");
  test::write_text_file(work + "/repo/README.md", "# tiny GGUF\n");
  MockHub hub;
  hub.add_repo(test::mock_repo_from_folder("tiny-org/tiny-vl-GGUF", work + "/repo", kCommit));
  const std::string cache = work + "/hub";
  HubEnv env(hub.endpoint(), cache);

  const std::string image = test::testdata("images/img_256x256.png");
  const auto named = run_hub_kantu(greedy_args("tiny-org/tiny-vl-GGUF:Q8_0", {"--image", image}));
  ASSERT_EQ(named.exit_code, 0) << named.err;
  const auto local = run_hub_kantu(greedy_args(q8.model, {"--mmproj", bf16.mmproj, "--image", image}));
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_EQ(parse_json(named.out, "named")["ids"], parse_json(local.out, "local")["ids"]);
  const std::string snap = snapshot(cache, "models--tiny-org--tiny-vl-GGUF");
  std::vector<std::string> present;
  for (const auto& e : fs::directory_iterator(snap)) present.push_back(e.path().filename().string());
  std::sort(present.begin(), present.end());
  EXPECT_EQ(present, (std::vector<std::string>{"mmproj-tiny-vl-F16.gguf", "tiny-vl-Q8_0.gguf"}));

  ASSERT_EQ(run_hub_kantu({"pull", "tiny-org/tiny-vl-GGUF:BF16"}).exit_code, 0);
  Json list = parse_json(run_hub_kantu({"list", "--json"}).out, "list");
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_EQ(list[0]["name"], "tiny-org/tiny-vl-GGUF:BF16");
  EXPECT_EQ(list[1]["name"], "tiny-org/tiny-vl-GGUF:Q8_0");
  EXPECT_EQ(list[1]["mmproj"], snap + "/mmproj-tiny-vl-F16.gguf");

  // Removing one quantization keeps the mmproj the other still uses.
  const auto rm = run_hub_kantu({"rm", "tiny-org/tiny-vl-GGUF:Q8_0"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_FALSE(fs::exists(fs::symlink_status(snap + "/tiny-vl-Q8_0.gguf")));
  EXPECT_TRUE(fs::exists(snap + "/mmproj-tiny-vl-F16.gguf"));
  EXPECT_FALSE(fs::exists(cache + "/models--tiny-org--tiny-vl-GGUF/blobs/" + MockHub::sha256_hex([&] {
                            std::ifstream in(q8.model, std::ios::binary);
                            std::stringstream s;
                            s << in.rdbuf();
                            return s.str();
                          }())));
  list = parse_json(run_hub_kantu({"list", "--json"}).out, "list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "tiny-org/tiny-vl-GGUF:BF16");
  const auto text = run_hub_kantu(greedy_args("tiny-org/tiny-vl-GGUF:BF16", {"--no-pull"}));
  EXPECT_EQ(text.exit_code, 0) << text.err;
}

int64_t incomplete_bytes(const std::string& cache) {
  std::error_code ec;
  int64_t n = 0;
  for (auto it = fs::recursive_directory_iterator(cache, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().extension() == ".incomplete") n += static_cast<int64_t>(fs::file_size(it->path(), ec));
  return n;
}

TEST(HubCli, AnInterruptedPullResumes) {
  TinyHub tiny(20);
  MockHub& hub = tiny.hub;
  const std::string& cache = tiny.cache;

  std::string weights_sha;
  for (const test::MockFile& f : tiny_c_repo().files)
    if (f.path == "model.safetensors") weights_sha = MockHub::sha256_hex(f.content);
  const std::string partial = cache + "/models--tiny-org--qwen3vl-tiny-c/blobs/" + weights_sha + ".incomplete";
  const auto partial_bytes = [&] {
    std::error_code ec;
    const auto n = fs::file_size(partial, ec);
    return ec ? int64_t{0} : static_cast<int64_t>(n);
  };
  const test::StartedCommand first = test::start_command(kantu_argv({"pull", "tiny-org/qwen3vl-tiny-c"}));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (partial_bytes() < 1000000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(first.pid, SIGKILL);  // as a power cut would
  test::wait_command(first);
  ASSERT_GE(partial_bytes(), 1000000);

  hub.set_faults({});
  const auto r = run_hub_kantu({"pull", "tiny-org/qwen3vl-tiny-c", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool resumed = false;
  for (const Json& line : hub_json_lines(r.out))
    if (line.value("file", "") == "model.safetensors") resumed = line["status"] == "resumed";
  EXPECT_TRUE(resumed) << r.out;
  const std::vector<std::string> ranges = hub.ranges_seen("model.safetensors");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[1].rfind("bytes=", 0), 0u) << ranges[1];
  EXPECT_EQ(incomplete_bytes(cache), 0);
  EXPECT_EQ(run_hub_kantu(greedy_args("tiny-org/qwen3vl-tiny-c", {"--no-pull"})).exit_code, 0);
}

TEST(HubCli, TwoPullsAtOnceShareTheDownload) {
  TinyHub tiny(3);
  MockHub& hub = tiny.hub;
  const std::string& cache = tiny.cache;
  const auto a = test::start_command(kantu_argv({"pull", "tiny-org/qwen3vl-tiny-c", "--json"}));
  const auto b = test::start_command(kantu_argv({"pull", "tiny-org/qwen3vl-tiny-c", "--json"}));
  const auto ra = test::wait_command(a);
  const auto rb = test::wait_command(b);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(hub.cdn_gets("model.safetensors"), 1);  // the second waited for the first's blob
  EXPECT_EQ(hub_json_lines(ra.out).back()["commit"], kCommit);
  EXPECT_EQ(hub_json_lines(rb.out).back()["commit"], kCommit);
  EXPECT_EQ(incomplete_bytes(cache), 0);
  EXPECT_EQ(run_hub_kantu(greedy_args("tiny-org/qwen3vl-tiny-c", {"--no-pull"})).exit_code, 0);
}

TEST(HubCli, ProgressBarOnATerminal) {
  TinyHub tiny(3);
  const auto r = test::run_command_on_tty(kantu_argv({"pull", "tiny-org/qwen3vl-tiny-c"}));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* part : {"pulling tiny-org/qwen3vl-tiny-c", "10 files", "model.safetensors", "[####", "MB/s",
                           "ETA", "total", "sha256 ok", "downloaded"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " not in:\n" << r.out;
}

TEST(HubCli, ErrorsSayWhatToDo) {
  MockHub hub;
  test::MockRepo gated = tiny_c_repo();
  gated.id = "tiny-org/gated";
  gated.gated = true;
  hub.add_repo(gated);
  const std::string dir = test::make_temp_dir("hub_e2e");
  HubEnv env(hub.endpoint(), dir + "/hub");

  auto r = run_hub_kantu({"pull", "tiny-org/gated"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  test::write_text_file(dir + "/token", hub.token() + "\n");
  env.set("HF_TOKEN_PATH", dir + "/token");
  r = run_hub_kantu({"pull", "tiny-org/gated", "--include", "config.json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  env.unset("HF_TOKEN_PATH");
  env.set("HF_TOKEN", hub.token());
  r = run_hub_kantu({"pull", "tiny-org/gated"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(hub.cdn_saw_authorization());

  r = run_hub_kantu({"pull", "tiny-org/nothing"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("repository tiny-org/nothing not found"), std::string::npos) << r.err;
  r = run_hub_kantu({"pull", "tiny-org/gated", "--revision", "v2"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("revision 'v2' not found"), std::string::npos) << r.err;
  r = run_hub_kantu({"pull", "not a name"});
  EXPECT_EQ(r.exit_code, 2);

  env.set("HF_HUB_OFFLINE", "1");
  r = run_hub_kantu(greedy_args("tiny-org/nothing"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("HF_HUB_OFFLINE"), std::string::npos) << r.err;
  env.unset("HF_HUB_OFFLINE");

  test::MockFaults html;
  html.not_a_hub = true;
  hub.set_faults(html);
  r = run_hub_kantu({"pull", "tiny-org/other"});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("does not answer like a Hugging Face Hub"), std::string::npos) << r.err;

}

// A cache written by hand exactly as huggingface_hub writes it (blobs named by ETag,
// relative links, refs/main) runs with no Hub at all.
TEST(HubCli, AHandLaidCacheRunsWithoutNetwork) {
  const std::string cache = test::make_temp_dir("hub_e2e") + "/hub";
  test::MockRepo repo = tiny_c_repo();
  repo.id = "hand/tiny-c";
  test::write_cache_by_hand(cache, repo);
  HubEnv env("http://127.0.0.1:9", cache);
  env.set("HF_HUB_OFFLINE", "1");
  const auto r = run_hub_kantu(greedy_args("hand/tiny-c"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto local = run_hub_kantu(greedy_args(test::testdata("models/qwen3vl-tiny-c")));
  EXPECT_EQ(parse_json(r.out, "hand")["ids"], parse_json(local.out, "local")["ids"]);
  const Json list = parse_json(run_hub_kantu({"list", "--json"}).out, "list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "hand/tiny-c");
}

// A snapshot whose preprocessor_config.json its family refuses is listed as not runnable,
// with the message `kantu run` gives: list judges it by the family's profile, as Model::load
// does (ModelFolder::open only reads the file).
TEST(HubCli, ListRefusesAPreprocessorConfigTheFamilyRefuses) {
  struct Broken {
    std::string repo;  // hand/<name>
    std::string model;  // shared tiny model
    std::string preprocessor;  // its preprocessor_config.json, replaced
    std::string problem;
  };
  const auto edited = [](const std::string& model, const std::function<void(Json&)>& edit) {
    Json j = parse_json(read_file(test::testdata("models/" + model + "/preprocessor_config.json")), "pre");
    edit(j);
    return j.dump(2);
  };
  const std::vector<Broken> cases = {
      {"hand/a-malformed", "qwen3vl-tiny-a", "{\"patch_size\": ", "preprocessor_config.json"},
      {"hand/b-std", "qwen3vl-tiny-a", edited("qwen3vl-tiny-a", [](Json& j) { j["image_std"] = {0.5, 0, 0.5}; }),
       "preprocessor_config.json: image_std must be"},
      {"hand/c-patch", "qwen3vl-tiny-a", edited("qwen3vl-tiny-a", [](Json& j) { j["patch_size"] = 14; }),
       "preprocessor_config.json: patch_size 14 contradicts"},
      {"hand/d-merge", "qwen2vl-tiny-a", edited("qwen2vl-tiny-a", [](Json& j) { j["merge_size"] = 1; }),
       "preprocessor_config.json: merge_size 1 contradicts"},
      {"hand/e-crop", "llava15-tiny-a",
       edited("llava15-tiny-a", [](Json& j) { j["crop_size"] = {{"height", 224}, {"width", 224}}; }),
       "preprocessor_config.json: crop_size 224x224 contradicts"},
  };
  const std::string cache = test::make_temp_dir("hub_e2e") + "/hub";
  for (const Broken& c : cases) {
    test::MockRepo repo = test::mock_repo_from_folder(c.repo, test::testdata("models/" + c.model), kCommit);
    for (test::MockFile& f : repo.files)
      if (f.path == "preprocessor_config.json") f.content = c.preprocessor;
    test::write_cache_by_hand(cache, repo);
  }
  HubEnv env("http://127.0.0.1:9", cache);
  env.set("HF_HUB_OFFLINE", "1");

  auto r = run_hub_kantu({"list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out, "list"), Json::array());
  r = run_hub_kantu({"list", "--all", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json all = parse_json(r.out, "list --all");
  ASSERT_EQ(all.size(), cases.size()) << r.out;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].repo);
    EXPECT_EQ(all[i]["name"], cases[i].repo);
    EXPECT_EQ(all[i]["runnable"], false);
    const std::string problem = all[i].value("problem", "");
    EXPECT_NE(problem.find(cases[i].problem), std::string::npos) << problem;
    // The same words as the loader's refusal.
    const auto run = run_hub_kantu(greedy_args(cases[i].repo));
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.err.find(problem), std::string::npos) << run.err << "\nlist: " << problem;
  }
  r = run_hub_kantu({"list", "--all"});
  EXPECT_NE(r.out.find("cannot run: " + all[2]["problem"].get<std::string>()), std::string::npos) << r.out;
}

}  // namespace
}  // namespace kantu
