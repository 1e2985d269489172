// Pulls against the mock Hub: the cache layout huggingface_hub writes, resumed and
// verified downloads, retries, and every failure with a clear error and a consistent cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/json.h"
#include "hub/hub_client.h"
#include "hub/pull.h"
#include "hub/repo_cache.h"
#include "support/env_scope.h"
#include "support/mock_hub.h"
#include "support/testdata.h"

namespace kantu::hub {
namespace {

namespace fs = std::filesystem;
using test::MockFaults;
using test::MockFile;
using test::MockHub;
using test::MockRepo;

const std::string kCommit = "3f2b6e8c9d0a1b2c3d4e5f60718293a4b5c6d7e8";

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

MockRepo small_repo(const std::string& id) {
  MockRepo r;
  r.id = id;
  r.commit = kCommit;
  r.files = {{"config.json", R"({"model_type": "qwen3_vl"})", false},
             {"tokenizer.json", R"({"model": {"type": "BPE"}})", false},
             {"README.md", "# a model\n", false},
             {"sub/dir/notes.txt", "nested\n", false},
             {"model.safetensors", random_bytes(1500000, 7), true}};
  return r;
}

const MockFile& file_of(const MockRepo& r, const std::string& path) {
  for (const MockFile& f : r.files)
    if (f.path == path) return f;
  throw std::runtime_error("no " + path);
}

// The blob name huggingface_hub gives a file: the ETag, i.e. SHA-256 for LFS, git SHA-1 else.
std::string etag_of(const MockFile& f) {
  return f.lfs ? MockHub::sha256_hex(f.content) : MockHub::git_blob_sha1(f.content);
}

class PullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = test::make_temp_dir("hub_cache");
    repo_ = small_repo("org/tiny");
    hub_.add_repo(repo_);
    config_.endpoint = hub_.endpoint();
    config_.cache_dir = cache_;
    config_.retry_base_s = 0.01;
    config_.retry_max_s = 0.05;
    config_.download_timeout_s = 1;
    config_.metadata_timeout_s = 5;
  }

  // Records notices (retries, fallbacks) and finished files.
  struct Recorder : PullObserver {
    std::vector<std::string> notices;
    std::vector<PulledFile> done;
    void notice(const std::string& m) override { notices.push_back(m); }
    void file_done(const PulledFile& f) override { done.push_back(f); }
  };

  PullResult pull_model(const std::string& name, PullOptions options = {}) {
    return pull(config_, *parse_model_ref(name), options, &recorder_);
  }

  // The error kind and message a failing pull gives.
  std::pair<ErrorKind, std::string> pull_error(const std::string& name, PullOptions options = {}) {
    try {
      pull_model(name, options);
    } catch (const Error& e) {
      return {e.kind(), e.what()};
    }
    ADD_FAILURE() << name << " did not fail";
    return {ErrorKind::kInternal, ""};
  }

  std::string repo_dir() const { return cache_ + "/models--org--tiny"; }

  test::ProxyEnvScope proxies_;  // none unless a test sets one
  MockHub hub_;
  MockRepo repo_;
  std::string cache_;
  HubConfig config_;
  Recorder recorder_;
};

// Every entry under the cache: files by content, symlinks by target, folders as "dir".
std::map<std::string, std::string> cache_tree(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = it->path().lexically_relative(root).generic_string();
    if (it->is_symlink()) {
      tree[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      tree[rel] = "dir";
    } else {
      tree[rel] = "file " + std::to_string(fs::file_size(it->path()));
    }
  }
  return tree;
}

TEST_F(PullTest, CacheLayoutIsTheOneHuggingFaceHubWrites) {
  PullOptions all;
  all.include = {"*"};
  const PullResult r = pull_model("org/tiny", all);
  EXPECT_EQ(r.commit, kCommit);
  EXPECT_EQ(r.snapshot_dir, repo_dir() + "/snapshots/" + kCommit);

  // What huggingface_hub's snapshot_download leaves for this repo at "main"
  // (file_download.py: blobs/<etag>, snapshots/<commit>/<path> -> relative links,
  // refs/main holding the commit without newline, .locks/<repo folder>/<etag>.lock,
  // trees/<commit>.json, CACHEDIR.TAG in the cache root).
  std::map<std::string, std::string> want = {
      {"CACHEDIR.TAG", ""},
      {".locks", "dir"},
      {".locks/models--org--tiny", "dir"},
      {".locks/models--org--tiny/kantu-repo.lock", "file 0"},  // kantu's own: pull vs rm
      {"models--org--tiny", "dir"},
      {"models--org--tiny/blobs", "dir"},
      {"models--org--tiny/refs", "dir"},
      {"models--org--tiny/refs/main", "file 40"},
      {"models--org--tiny/snapshots", "dir"},
      {"models--org--tiny/snapshots/" + kCommit, "dir"},
      {"models--org--tiny/snapshots/" + kCommit + "/sub", "dir"},
      {"models--org--tiny/snapshots/" + kCommit + "/sub/dir", "dir"},
      {"models--org--tiny/trees", "dir"},
      {"models--org--tiny/trees/" + kCommit + ".json", ""},
  };
  for (const MockFile& f : repo_.files) {
    const std::string etag = etag_of(f);
    const int depth = static_cast<int>(std::count(f.path.begin(), f.path.end(), '/'));
    std::string up;
    for (int i = 0; i < depth + 2; ++i) up += "../";
    want["models--org--tiny/blobs/" + etag] = "file " + std::to_string(f.content.size());
    want["models--org--tiny/snapshots/" + kCommit + "/" + f.path] = "-> " + up + "blobs/" + etag;
    want[".locks/models--org--tiny/" + etag + ".lock"] = "file 0";
  }
  std::map<std::string, std::string> got = cache_tree(cache_);
  got["CACHEDIR.TAG"] = "";  // content checked below
  got["models--org--tiny/trees/" + kCommit + ".json"] = "";
  EXPECT_EQ(got, want);

  EXPECT_EQ(slurp(repo_dir() + "/refs/main"), kCommit);
  EXPECT_EQ(slurp(cache_ + "/CACHEDIR.TAG").rfind("Signature: 8a477f597d28d172789f06886806bc55\n", 0), 0u);
  for (const MockFile& f : repo_.files) {
    EXPECT_EQ(slurp(repo_dir() + "/blobs/" + etag_of(f)), f.content) << f.path;
    EXPECT_EQ(slurp(r.snapshot_dir + "/" + f.path), f.content) << f.path;
  }
  // trees/<commit>.json as huggingface_hub's _tree_cache writes it.
  const Json tree = read_json_file(repo_dir() + "/trees/" + kCommit + ".json");
  EXPECT_EQ(tree["format_version"], 1);
  const MockFile& weights = file_of(repo_, "model.safetensors");
  EXPECT_EQ(tree["files"]["model.safetensors"],
            Json({{"size", weights.content.size()}, {"blob_id", MockHub::git_blob_sha1(weights.content)},
                  {"lfs_sha256", MockHub::sha256_hex(weights.content)}, {"lfs_size", weights.content.size()}}));
  EXPECT_EQ(tree["files"]["config.json"],
            Json({{"size", 26}, {"blob_id", MockHub::git_blob_sha1(file_of(repo_, "config.json").content)}}));
  // The LFS bytes came from the CDN, without the token.
  EXPECT_EQ(hub_.cdn_gets("model.safetensors"), 1);
  EXPECT_FALSE(hub_.cdn_saw_authorization());
}

TEST_F(PullTest, DefaultSelectionThenEverythingCached) {
  PullResult r = pull_model("org/tiny");
  std::vector<std::string> paths;
  for (const PulledFile& f : r.files) {
    paths.push_back(f.path);
    EXPECT_EQ(f.status, PulledFile::Status::kDownloaded) << f.path;
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"}));
  EXPECT_TRUE(r.files[1].sha256_verified);
  EXPECT_EQ(r.model_path, r.snapshot_dir);
  EXPECT_FALSE(fs::exists(r.snapshot_dir + "/README.md"));
  EXPECT_EQ(r.bytes_downloaded, static_cast<int64_t>(file_of(repo_, "model.safetensors").content.size() + 26 +
                                                     file_of(repo_, "tokenizer.json").content.size()));

  const int resolves = hub_.resolve_calls();
  r = pull_model("org/tiny");  // asks for the commit, fetches nothing
  for (const PulledFile& f : r.files) EXPECT_EQ(f.status, PulledFile::Status::kCached) << f.path;
  EXPECT_EQ(hub_.resolve_calls(), resolves);
  EXPECT_EQ(hub_.cdn_gets("model.safetensors"), 1);

  // The cache alone answers now.
  const std::optional<PullResult> cached = find_cached(config_, *parse_model_ref("org/tiny"), {});
  ASSERT_TRUE(cached);
  EXPECT_TRUE(cached->from_cache_only);
  EXPECT_EQ(cached->commit, kCommit);
}

TEST_F(PullTest, ADroppedConnectionIsResumedWithARange) {
  MockFaults faults;
  faults.drop_file = "model.safetensors";
  faults.drop_after_bytes = 500000;
  hub_.set_faults(faults);
  const PullResult r = pull_model("org/tiny");
  const std::string& want = file_of(repo_, "model.safetensors").content;
  EXPECT_EQ(slurp(r.snapshot_dir + "/model.safetensors"), want);
  EXPECT_EQ(hub_.ranges_seen("model.safetensors"), (std::vector<std::string>{"", "bytes=500000-"}));
  EXPECT_EQ(hub_.cdn_bytes_sent("model.safetensors"), static_cast<int64_t>(want.size()));
  EXPECT_FALSE(recorder_.notices.empty());  // "... connection dropped; retrying"
}

TEST_F(PullTest, AnInterruptedDownloadResumesFromItsIncompleteBlob) {
  const std::string& want = file_of(repo_, "model.safetensors").content;
  const std::string blob = repo_dir() + "/blobs/" + MockHub::sha256_hex(want);
  fs::create_directories(repo_dir() + "/blobs");
  test::write_text_file(blob + ".incomplete", want.substr(0, 300000));
  const PullResult r = pull_model("org/tiny");
  EXPECT_EQ(r.files[1].path, "model.safetensors");
  EXPECT_EQ(r.files[1].status, PulledFile::Status::kResumed);
  EXPECT_TRUE(r.files[1].sha256_verified);
  EXPECT_EQ(hub_.ranges_seen("model.safetensors"), (std::vector<std::string>{"bytes=300000-"}));
  EXPECT_EQ(hub_.cdn_bytes_sent("model.safetensors"), static_cast<int64_t>(want.size() - 300000));
  EXPECT_EQ(slurp(blob), want);
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
}

TEST_F(PullTest, CorruptBytesAreRejectedAndLeaveNothing) {
  MockFaults faults;
  faults.corrupt_file = "model.safetensors";
  hub_.set_faults(faults);
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kCorrupt);
  EXPECT_NE(message.find("SHA-256"), std::string::npos) << message;
  const std::string blob = repo_dir() + "/blobs/" + etag_of(file_of(repo_, "model.safetensors"));
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(repo_dir() + "/snapshots/" + kCommit + "/model.safetensors")));
  EXPECT_FALSE(find_cached(config_, *parse_model_ref("org/tiny"), {}));

  // A damaged partial file from an earlier run is caught the same way.
  hub_.set_faults({});
  fs::create_directories(repo_dir() + "/blobs");
  test::write_text_file(blob + ".incomplete", std::string(1000, 'x'));
  EXPECT_EQ(pull_error("org/tiny").first, ErrorKind::kCorrupt);
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));

  // Then a clean pull completes the snapshot.
  pull_model("org/tiny");
  EXPECT_EQ(slurp(blob), file_of(repo_, "model.safetensors").content);
}

TEST_F(PullTest, GatedRepoNeedsAToken) {
  MockRepo gated = small_repo("org/gated");
  gated.gated = true;
  hub_.add_repo(gated);
  const auto [kind, message] = pull_error("org/gated");
  EXPECT_EQ(kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(message.find("gated"), std::string::npos) << message;
  EXPECT_NE(message.find("HF_TOKEN"), std::string::npos) << message;
  EXPECT_NE(message.find("huggingface-cli login"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(cache_ + "/models--org--gated/snapshots"));

  config_.token = "hf_wrong";
  config_.token_source = "HF_TOKEN";
  EXPECT_NE(pull_error("org/gated").second.find("the token from HF_TOKEN"), std::string::npos);

  config_.token = hub_.token();
  const PullResult r = pull_model("org/gated");
  EXPECT_EQ(r.files.size(), 3u);
  EXPECT_FALSE(hub_.cdn_saw_authorization());  // the token never left the Hub's origin
}

TEST_F(PullTest, NotFoundSaysWhat) {
  auto [kind, message] = pull_error("org/missing");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(message.find("repository org/missing not found on " + hub_.endpoint()), std::string::npos) << message;
  PullOptions rev;
  rev.revision = "v9";
  std::tie(kind, message) = pull_error("org/tiny", rev);
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(message.find("revision 'v9' not found in org/tiny"), std::string::npos) << message;
  HubClient client(config_);
  try {
    client.file_metadata("org/tiny", "main", "nope.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("file 'nope.json' not found in org/tiny"), std::string::npos) << e.what();
  }
  std::tie(kind, message) = pull_error("org/tiny:Q4_K_M");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(message.find("no GGUF model file for the tag Q4_K_M"), std::string::npos) << message;
}

TEST_F(PullTest, RenamedRepoFollowsTheRelativeRedirect) {
  MockRepo renamed = small_repo("neworg/tiny");
  renamed.renamed_from = "oldorg/tiny";
  hub_.add_repo(renamed);
  const PullResult r = pull_model("oldorg/tiny");
  EXPECT_EQ(r.files.size(), 3u);
  EXPECT_TRUE(fs::exists(cache_ + "/models--oldorg--tiny/snapshots/" + kCommit + "/config.json"));
}

TEST_F(PullTest, RetriesOn503And429) {
  MockFaults faults;
  faults.api_errors = 2;
  faults.api_error_status = 503;
  faults.cdn_errors = 1;
  hub_.set_faults(faults);
  pull_model("org/tiny");
  EXPECT_GE(recorder_.notices.size(), 3u);
  EXPECT_NE(recorder_.notices[0].find("HTTP 503"), std::string::npos) << recorder_.notices[0];

  faults = {};
  faults.api_errors = 10;
  faults.api_error_status = 429;
  hub_.set_faults(faults);
  config_.max_retries = 2;
  config_.cache_dir = test::make_temp_dir("hub_cache_429");
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kOverloaded);
  EXPECT_NE(message.find("429"), std::string::npos) << message;
}

TEST_F(PullTest, AnExpiredDownloadLinkIsRenewed) {
  MockFaults faults;
  faults.drop_file = "model.safetensors";
  faults.drop_after_bytes = 400000;
  faults.cdn_expired = 1;  // the first GET; the resumed one after the drop gets through
  hub_.set_faults(faults);
  const int resolves = hub_.resolve_calls();
  const PullResult r = pull_model("org/tiny");
  const std::string& want = file_of(repo_, "model.safetensors").content;
  EXPECT_EQ(slurp(r.snapshot_dir + "/model.safetensors"), want);
  EXPECT_EQ(hub_.resolve_calls() - resolves, 6);  // 3 HEADs, 2 small GETs, the weights' HEAD again
  EXPECT_TRUE(std::any_of(recorder_.notices.begin(), recorder_.notices.end(), [](const std::string& n) {
    return n.find("asking the Hub for a new one") != std::string::npos;
  }));

  // A link that stays refused is an error that says so, and adds nothing. (The mock cannot
  // refuse a Range request: httplib would answer its error body 416.)
  faults = {};
  faults.cdn_expired = 3;
  hub_.set_faults(faults);
  config_.cache_dir = test::make_temp_dir("hub_cache_403");
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(message.find("HTTP 403"), std::string::npos) << message;
  EXPECT_NE(message.find("asking the Hub for a new one"), std::string::npos) << message;
  const std::string blob = config_.cache_dir + "/models--org--tiny/blobs/" + MockHub::sha256_hex(want);
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(fs::symlink_status(config_.cache_dir + "/models--org--tiny/snapshots/" + kCommit +
                                             "/model.safetensors")));
  pull_model("org/tiny");
  EXPECT_EQ(slurp(blob), want);
}

TEST_F(PullTest, AStalledServerTimesOut) {
  MockFaults faults;
  faults.stall_file = "model.safetensors";
  faults.stall_ms = 2500;
  hub_.set_faults(faults);
  config_.max_retries = 0;
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kOverloaded);
  EXPECT_NE(message.find("timed out"), std::string::npos) << message;
  // With retries, the next attempt gets the file.
  hub_.set_faults(faults);
  config_.max_retries = 2;
  pull_model("org/tiny");
  EXPECT_TRUE(find_cached(config_, *parse_model_ref("org/tiny"), {}));
}

TEST_F(PullTest, AServerThatIsNotAHub) {
  MockFaults faults;
  faults.not_a_hub = true;
  hub_.set_faults(faults);
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kUnsupported);
  EXPECT_NE(message.find("does not answer like a Hugging Face Hub"), std::string::npos) << message;
  EXPECT_NE(message.find("text/html"), std::string::npos) << message;
}

TEST_F(PullTest, NotEnoughDiskSpaceIsSaidBeforeDownloading) {
  MockFaults faults;
  faults.inflate_file = "model.safetensors";
  hub_.set_faults(faults);
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kTooLarge);
  EXPECT_NE(message.find("not enough disk space"), std::string::npos) << message;
  EXPECT_EQ(hub_.cdn_gets("model.safetensors"), 0);
}

TEST_F(PullTest, DiskFullWhileWritingIsClear) {
  const std::string blob = repo_dir() + "/blobs/" + etag_of(file_of(repo_, "model.safetensors"));
  fs::create_directories(repo_dir() + "/blobs");
  fs::create_symlink("/dev/full", blob + ".incomplete");  // every write: ENOSPC
  const auto [kind, message] = pull_error("org/tiny");
  EXPECT_EQ(kind, ErrorKind::kTooLarge);
  EXPECT_NE(message.find("disk full"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(fs::symlink_status(repo_dir() + "/snapshots/" + kCommit + "/model.safetensors")));
}

TEST_F(PullTest, ProxiesComeFromTheEnvironment) {
  test::MockProxy proxy;
  proxies_.set("http_proxy", proxy.url());
  const PullResult r = pull_model("org/tiny");
  EXPECT_EQ(slurp(r.snapshot_dir + "/model.safetensors"), file_of(repo_, "model.safetensors").content);
  // The listing, the metadata and the CDN's bytes all went through the proxy.
  const std::vector<std::string> relayed = proxy.relayed();
  const auto seen = [&](const std::string& prefix) {
    return std::any_of(relayed.begin(), relayed.end(), [&](const std::string& line) { return line.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(seen("GET " + hub_.endpoint() + "/api/models/org/tiny/revision/main")) << relayed.size();
  EXPECT_TRUE(seen("HEAD " + hub_.endpoint() + "/org/tiny/resolve/" + kCommit + "/model.safetensors"));
  EXPECT_TRUE(seen("GET " + hub_.cdn() + "/repos/"));

  // no_proxy names the hosts reached directly.
  proxies_.set("no_proxy", "127.0.0.1,localhost");
  config_.cache_dir = test::make_temp_dir("hub_cache_direct");
  pull_model("org/tiny");
  EXPECT_EQ(proxy.relayed().size(), relayed.size());
}

// A cache laid out by hand the way huggingface_hub lays it out (no trees/ listing, as
// versions before it wrote one): read with the network off.
TEST_F(PullTest, AHandLaidCacheIsReadWithoutNetwork) {
  MockRepo hand = repo_;
  hand.id = "hand/made";
  hand.commit = "0123456789abcdef0123456789abcdef01234567";
  test::write_cache_by_hand(cache_, hand);
  const std::string root = cache_ + "/models--hand--made", commit = hand.commit;
  config_.endpoint = "http://127.0.0.1:9";  // nothing listens there
  config_.offline = true;
  PullResult r = pull_model("hand/made");
  EXPECT_TRUE(r.from_cache_only);
  EXPECT_EQ(r.model_path, root + "/snapshots/" + commit);
  EXPECT_EQ(hub_.api_calls(), 0);

  // Not offline, the Hub unreachable: the complete snapshot is used, with a notice.
  config_.offline = false;
  config_.max_retries = 0;
  r = pull_model("hand/made");
  EXPECT_TRUE(r.from_cache_only);
  EXPECT_NE(recorder_.notices.back().find("check the network, the proxy settings (https_proxy) and HF_ENDPOINT"),
            std::string::npos) << recorder_.notices.back();
  ASSERT_FALSE(recorder_.notices.empty());
  EXPECT_NE(recorder_.notices.back().find("using the cached snapshot"), std::string::npos);

  // Without its weights the snapshot is not complete: offline says so.
  fs::remove(root + "/snapshots/" + commit + "/model.safetensors");
  config_.offline = true;
  const auto [kind, message] = pull_error("hand/made");
  EXPECT_EQ(kind, ErrorKind::kNotFound);
  EXPECT_NE(message.find("HF_HUB_OFFLINE"), std::string::npos) << message;
}

TEST_F(PullTest, AListingThatEscapesTheCacheIsRefused) {
  MockRepo evil = small_repo("org/evil");
  evil.files.push_back({"../../escape.txt", "x", false});
  hub_.add_repo(evil);
  EXPECT_EQ(pull_error("org/evil").first, ErrorKind::kCorrupt);
  EXPECT_FALSE(fs::exists(cache_ + "/escape.txt"));
}

}  // namespace
}  // namespace kantu::hub
