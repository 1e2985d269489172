#include "support/mock_hub.h"

#include <httplib.h>
#include <openssl/evp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace kantu::test {

namespace fs = std::filesystem;

namespace {

std::string digest_hex(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The raw path segments of a request target (before '?'), each percent-decoded.
std::vector<std::string> segments(const std::string& target) {
  const std::string path = target.substr(0, target.find('?'));
  std::vector<std::string> parts;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/'))
    if (!part.empty()) parts.push_back(percent_decode(part));
  return parts;
}

void error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
  res.status = status;
  if (!code.empty()) res.set_header("X-Error-Code", code);
  res.set_header("X-Error-Message", message);
  res.set_content(nlohmann::json{{"error", message}}.dump(), "application/json");
}

}  // namespace

struct MockHub::Impl {
  httplib::Server hub, cdn;
  int hub_port = 0, cdn_port = 0;
  std::thread hub_thread, cdn_thread;
  mutable std::mutex mutex;
  std::vector<MockRepo> repos;
  MockFaults faults;
  std::map<std::string, int64_t> bytes_sent;  // by file path
  std::map<std::string, int> gets;
  std::map<std::string, std::vector<std::string>> ranges;
  std::map<std::string, const MockFile*> by_sha;  // CDN objects
  std::map<std::string, std::string> path_of_sha;
};

MockHub::MockHub() : impl_(std::make_unique<Impl>()) {
  impl_->hub.set_keep_alive_max_count(100);

  // --- the Hub ---
  impl_->hub.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    Impl& m = *impl_;
    std::lock_guard<std::mutex> lock(m.mutex);
    if (m.faults.not_a_hub) {
      res.set_content("<html><body>Welcome to nginx!</body></html>", "text/html");
      return;
    }
    const std::vector<std::string> seg = segments(req.target);
    const bool api = seg.size() >= 5 && seg[0] == "api" && seg[1] == "models" && seg[4] == "revision";
    const bool resolve = seg.size() >= 5 && seg[2] == "resolve";
    if (!api && !resolve) return error(res, 404, "", "Sorry, we can't find the page you are looking for.");
    const std::string repo_id = api ? seg[2] + "/" + seg[3] : seg[0] + "/" + seg[1];
    if (api) ++api_calls_;
    if (resolve) ++resolve_calls_;
    if (api && m.faults.api_errors > 0) {
      --m.faults.api_errors;
      res.set_header("Retry-After", "0");
      return error(res, m.faults.api_error_status, "", "try again");
    }
    const MockRepo* repo = nullptr;
    for (const MockRepo& r : m.repos) {
      if (r.id == repo_id) repo = &r;
      if (!r.renamed_from.empty() && r.renamed_from == repo_id) {
        // A renamed repo: a relative redirect to the new name, as the Hub answers.
        std::string to = api ? "/api/models/" + r.id : "/" + r.id;
        for (size_t i = api ? 4 : 2; i < seg.size(); ++i) to += "/" + seg[i];
        if (api) to += "?blobs=" + req.get_param_value("blobs");
        res.status = 307;
        res.set_header("Location", to);
        return;
      }
    }
    if (!repo) return error(res, 404, "RepoNotFound", "Repository not found");
    if (repo->gated && req.get_header_value("Authorization") != "Bearer " + token())
      return error(res, 401, "GatedRepo", "Access to model " + repo->id + " is restricted. You must have access "
                                          "to it and be authenticated to access it. Please log in.");
    // The revision: api/models/O/N/revision/<rev...>, or O/N/resolve/<rev>/<path...>.
    std::string rev;
    if (api) {
      for (size_t i = 5; i < seg.size(); ++i) rev += (i > 5 ? "/" : "") + seg[i];
    } else {
      rev = seg[3];
    }
    std::string commit;
    if (rev == repo->commit) commit = rev;
    if (auto it = repo->refs.find(rev); it != repo->refs.end()) commit = it->second;
    if (rev == "main" && repo->refs.find("main") == repo->refs.end()) commit = repo->commit;
    if (commit.empty()) return error(res, 404, "RevisionNotFound", "Invalid rev id: " + rev);

    if (api) {
      const bool blobs = req.get_param_value("blobs") == "true";
      nlohmann::json siblings = nlohmann::json::array();
      for (const MockFile& f : repo->files) {
        nlohmann::json s = {{"rfilename", f.path}};
        if (blobs) {
          s["blobId"] = git_blob_sha1(f.content);
          const int64_t size = f.path == m.faults.inflate_file ? int64_t{100000000000000000}
                                                               : static_cast<int64_t>(f.content.size());
          s["size"] = size;
          if (f.lfs) s["lfs"] = {{"sha256", sha256_hex(f.content)}, {"size", size}, {"pointerSize", 134}};
        }
        siblings.push_back(s);
      }
      const nlohmann::json info = {{"_id", "0123"}, {"id", repo->id}, {"modelId", repo->id},
                                   {"sha", commit}, {"private", false}, {"gated", repo->gated ? "manual" : "false"},
                                   {"siblings", siblings}};
      res.set_content(info.dump(), "application/json");
      return;
    }
    std::string path;
    for (size_t i = 4; i < seg.size(); ++i) path += (i > 4 ? "/" : "") + seg[i];
    const MockFile* file = nullptr;
    for (const MockFile& f : repo->files)
      if (f.path == path) file = &f;
    res.set_header("X-Repo-Commit", commit);
    if (!file) return error(res, 404, "EntryNotFound", path + " does not exist on \"" + rev + "\"");
    if (file->lfs) {
      const std::string sha = sha256_hex(file->content);
      res.status = 302;
      res.set_header("Location", cdn() + "/repos/" + sha.substr(0, 2) + "/" + sha + "?X-Amz-Signature=abc");
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", file->path == m.faults.inflate_file ? std::string("100000000000000000")
                                                                          : std::to_string(file->content.size()));
      res.set_header("ETag", "\"" + git_blob_sha1(file->content) + "\"");
      return;
    }
    res.set_header("ETag", "W/\"" + git_blob_sha1(file->content) + "\"");
    res.set_content(file->content, "text/plain; charset=utf-8");
  });

  // --- the CDN: LFS objects by SHA-256, Range requests answered by httplib ---
  impl_->cdn.Get(R"(/repos/[0-9a-f]{2}/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
    Impl& m = *impl_;
    std::unique_lock<std::mutex> lock(m.mutex);
    if (req.has_header("Authorization")) cdn_saw_auth_ = true;
    const auto it = m.by_sha.find(req.matches[1]);
    if (it == m.by_sha.end()) {
      res.status = 404;
      return;
    }
    const MockFile* file = it->second;
    ++m.gets[file->path];
    m.ranges[file->path].push_back(req.get_header_value("Range"));
    if (m.faults.cdn_errors > 0) {
      --m.faults.cdn_errors;
      res.status = 503;
      res.set_content("Service Unavailable", "text/plain");
      return;
    }
    if (m.faults.cdn_expired > 0) {
      --m.faults.cdn_expired;
      res.status = 403;
      res.set_content("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                      "application/xml");
      return;
    }
    int64_t drop_after = -1;
    if (m.faults.drop_file == file->path) {
      drop_after = m.faults.drop_after_bytes;
      m.faults.drop_file.clear();
    }
    int stall_ms = 0;
    if (m.faults.stall_file == file->path) {
      stall_ms = m.faults.stall_ms;
      m.faults.stall_file.clear();
    }
    const bool corrupt = m.faults.corrupt_file == file->path;
    const int delay_ms = m.faults.chunk_delay_ms;
    lock.unlock();
    res.set_content_provider(
        file->content.size(), "application/octet-stream",
        [this, file, drop_after, stall_ms, corrupt, delay_ms, sent = int64_t{0}](
            size_t offset, size_t length, httplib::DataSink& sink) mutable {
          if (stall_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(stall_ms));
            stall_ms = 0;
            return false;  // hang up after the stall
          }
          size_t n = std::min<size_t>(length, 64 << 10);
          if (drop_after >= 0 && sent + static_cast<int64_t>(n) > drop_after)
            n = static_cast<size_t>(std::max<int64_t>(0, drop_after - sent));
          std::string chunk = file->content.substr(offset, n);
          const size_t middle = file->content.size() / 2;
          if (corrupt && offset <= middle && middle < offset + n) chunk[middle - offset] ^= 0x5a;
          if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
          if (n > 0 && !sink.write(chunk.data(), chunk.size())) return false;
          sent += static_cast<int64_t>(n);
          {
            std::lock_guard<std::mutex> l(impl_->mutex);
            impl_->bytes_sent[file->path] += static_cast<int64_t>(n);
          }
          if (drop_after >= 0 && sent >= drop_after) return false;  // hang up mid-file
          return true;
        });
  });

  Impl& m = *impl_;
  m.hub_port = m.hub.bind_to_any_port("127.0.0.1");
  m.cdn_port = m.cdn.bind_to_any_port("127.0.0.1");
  m.hub_thread = std::thread([this] { impl_->hub.listen_after_bind(); });
  m.cdn_thread = std::thread([this] { impl_->cdn.listen_after_bind(); });
  while (!m.hub.is_running() || !m.cdn.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MockHub::~MockHub() {
  impl_->hub.stop();
  impl_->cdn.stop();
  impl_->hub_thread.join();
  impl_->cdn_thread.join();
}

void MockHub::add_repo(MockRepo repo) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->repos.push_back(std::move(repo));
  impl_->by_sha.clear();
  for (const MockRepo& r : impl_->repos)
    for (const MockFile& f : r.files)
      if (f.lfs) impl_->by_sha[sha256_hex(f.content)] = &f;
}

std::string MockHub::endpoint() const { return "http://127.0.0.1:" + std::to_string(impl_->hub_port); }
std::string MockHub::cdn() const { return "http://localhost:" + std::to_string(impl_->cdn_port); }

void MockHub::set_faults(const MockFaults& faults) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->faults = faults;
}

int64_t MockHub::cdn_bytes_sent(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->bytes_sent.find(path);
  return it == impl_->bytes_sent.end() ? 0 : it->second;
}

int MockHub::cdn_gets(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->gets.find(path);
  return it == impl_->gets.end() ? 0 : it->second;
}

std::vector<std::string> MockHub::ranges_seen(const std::string& path) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->ranges.find(path);
  return it == impl_->ranges.end() ? std::vector<std::string>{} : it->second;
}

std::string MockHub::sha256_hex(const std::string& data) { return digest_hex(EVP_sha256(), data); }

std::string MockHub::git_blob_sha1(const std::string& data) {
  return digest_hex(EVP_sha1(), "blob " + std::to_string(data.size()) + std::string(1, '\0') + data);
}

struct MockProxy::Impl {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<std::string> relayed;
};

MockProxy::MockProxy() : impl_(std::make_unique<Impl>()) {
  // A proxied request names its absolute URL in the request line: "GET http://host:port/path".
  impl_->server.Get(R"(.*)", [this](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(impl_->mutex);
      impl_->relayed.push_back(req.method + " " + req.target);
    }
    const size_t host = req.target.find("://");
    const size_t path = host == std::string::npos ? host : req.target.find('/', host + 3);
    if (path == std::string::npos) {
      res.status = 400;
      return;
    }
    httplib::Client origin(req.target.substr(0, path));
    httplib::Headers headers;
    for (const auto& [name, value] : req.headers)
      if (name != "Host" && name != "Proxy-Connection" && name != "Connection" && name != "REMOTE_ADDR" &&
          name != "REMOTE_PORT" && name != "LOCAL_ADDR" && name != "LOCAL_PORT")
        headers.emplace(name, value);
    const httplib::Result r =
        req.method == "HEAD" ? origin.Head(req.target.substr(path), headers) : origin.Get(req.target.substr(path), headers);
    if (!r) {
      res.status = 502;
      return;
    }
    res.status = r->status;
    for (const auto& [name, value] : r->headers)
      if (name != "Content-Length" && name != "Content-Type" && name != "Transfer-Encoding" && name != "Connection" &&
          name != "Keep-Alive")
        res.set_header(name, value);
    const std::string type = r->get_header_value("Content-Type");
    if (req.method == "HEAD") {
      // No body to relay: announce the origin's length as the origin did.
      const std::string length = r->get_header_value("Content-Length");
      if (!length.empty() && length != "0")
        res.set_content_provider(std::stoull(length), type.c_str(), [](size_t, size_t, httplib::DataSink&) { return true; });
      return;
    }
    res.set_content(r->body, type.c_str());
  });
  impl_->port = impl_->server.bind_to_any_port("127.0.0.1");
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!impl_->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MockProxy::~MockProxy() {
  impl_->server.stop();
  impl_->thread.join();
}

std::string MockProxy::url() const { return "http://127.0.0.1:" + std::to_string(impl_->port); }

std::vector<std::string> MockProxy::relayed() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->relayed;
}

void write_cache_by_hand(const std::string& cache_dir, const MockRepo& repo) {
  std::string folder = "models--" + repo.id;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path root = fs::path(cache_dir) / folder;
  fs::create_directories(root / "blobs");
  fs::create_directories(root / "refs");
  std::ofstream(root / "refs" / "main", std::ios::binary) << repo.commit;
  for (const MockFile& f : repo.files) {
    const std::string etag = f.lfs ? MockHub::sha256_hex(f.content) : MockHub::git_blob_sha1(f.content);
    std::ofstream(root / "blobs" / etag, std::ios::binary) << f.content;
    const fs::path link = root / "snapshots" / repo.commit / f.path;
    fs::create_directories(link.parent_path());
    std::string up = "../../";
    for (char c : f.path) up += c == '/' ? "../" : "";
    fs::create_symlink(up + "blobs/" + etag, link);
  }
  // What else the reference client leaves: a ".no_exist" marker for a file it looked for and
  // the Hub did not have (transformers probes for optional files), a ref to a pull request,
  // and a repo of another type.
  fs::create_directories(root / ".no_exist" / repo.commit);
  std::ofstream(root / ".no_exist" / repo.commit / "processor_config.json");
  fs::create_directories(root / "refs" / "refs" / "pr");
  std::ofstream(root / "refs" / "refs" / "pr" / "1", std::ios::binary) << "ffffffffffffffffffffffffffffffffffffffff";
  fs::create_directories(fs::path(cache_dir) / "datasets--some--data" / "snapshots");
}

MockRepo mock_repo_from_folder(const std::string& id, const std::string& folder, const std::string& commit) {
  MockRepo repo;
  repo.id = id;
  repo.commit = commit;
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file()) paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    MockFile f;
    f.path = fs::relative(p, folder).generic_string();
    f.content = s.str();
    f.lfs = p.extension() == ".safetensors" || p.extension() == ".gguf";
    repo.files.push_back(std::move(f));
  }
  return repo;
}

}  // namespace kantu::test
