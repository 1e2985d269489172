#include "hub/repo_cache.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "hub/file_select.h"

namespace kantu::hub {

namespace fs = std::filesystem;

namespace {

// Writes `content` to path through a temporary file and a rename, so a reader never sees
// half a file.
void write_atomically(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      fail(ErrorKind::kInvalidArgument, "cannot write ", path.string(), ": ", std::strerror(errno));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(ErrorKind::kInvalidArgument, "cannot write ", path.string(), ": ", ec.message());
  }
}

}  // namespace

std::string repo_folder_name(const std::string& repo_id) {
  std::string name = "models";
  size_t start = 0;
  for (;;) {
    const size_t slash = repo_id.find('/', start);
    name += "--" + repo_id.substr(start, slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return name;
}

std::optional<std::string> repo_id_from_folder(const std::string& folder) {
  const std::string prefix = "models--";
  if (folder.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = folder.substr(prefix.size());
  const size_t sep = rest.find("--");
  if (rest.empty() || sep == std::string::npos || sep == 0 || sep + 2 >= rest.size()) return std::nullopt;
  std::string id;
  size_t start = 0;
  for (;;) {
    const size_t s = rest.find("--", start);
    id += rest.substr(start, s - start);
    if (s == std::string::npos) break;
    id += '/';
    start = s + 2;
  }
  return id;
}

std::optional<std::string> model_name_of_cache_path(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::absolute(path, ec).lexically_normal();
  for (fs::path dir = p; dir.has_parent_path() && dir != dir.parent_path(); dir = dir.parent_path()) {
    if (dir.parent_path().filename() != "snapshots" || !is_commit_hash(dir.filename().string())) continue;
    const std::optional<std::string> repo = repo_id_from_folder(dir.parent_path().parent_path().filename().string());
    if (!repo) return std::nullopt;
    const std::string tag = p.extension() == ".gguf" ? gguf_file_tag(p.filename().string()) : "";
    return tag.empty() ? *repo : *repo + ":" + tag;
  }
  return std::nullopt;
}

bool is_commit_hash(const std::string& text) {
  if (text.size() != 40) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_safe_repo_path(const std::string& path) {
  bool bad = path.empty() || path[0] == '/' || path.find('\\') != std::string::npos ||
             path.find('\0') != std::string::npos;
  size_t start = 0;
  while (!bad) {
    const size_t slash = path.find('/', start);
    const std::string part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") bad = true;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return !bad;
}

void check_repo_path(const std::string& path) {
  if (!is_safe_repo_path(path))
    fail(ErrorKind::kCorrupt, "the Hub listed a file named '", path, "', which is not a safe relative path");
}

RepoCache::RepoCache(std::string cache_dir, std::string repo_id)
    : cache_dir_(std::move(cache_dir)), repo_id_(std::move(repo_id)) {}

std::string RepoCache::dir() const { return (fs::path(cache_dir_) / repo_folder_name(repo_id_)).string(); }

std::string RepoCache::blob_path(const std::string& etag) const {
  return (fs::path(dir()) / "blobs" / etag).string();
}

std::string RepoCache::snapshot_dir(const std::string& commit) const {
  return (fs::path(dir()) / "snapshots" / commit).string();
}

std::string RepoCache::pointer_path(const std::string& commit, const std::string& file) const {
  check_repo_path(file);
  return (fs::path(snapshot_dir(commit)) / file).string();
}

std::string RepoCache::blob_lock_path(const std::string& etag) const {
  return (fs::path(cache_dir_) / ".locks" / repo_folder_name(repo_id_) / (etag + ".lock")).string();
}

std::string RepoCache::repo_lock_path() const {
  return (fs::path(cache_dir_) / ".locks" / repo_folder_name(repo_id_) / "kantu-repo.lock").string();
}

std::optional<std::string> RepoCache::resolve_revision(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  if (!is_safe_repo_path(revision)) return std::nullopt;
  const fs::path ref = fs::path(dir()) / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  std::string commit = read_file(ref.string());
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' '))
    commit.pop_back();
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  check_repo_path(revision);
  const fs::path ref = fs::path(dir()) / "refs" / revision;
  std::error_code ec;
  if (fs::is_regular_file(ref, ec) && read_file(ref.string()) == commit) return;
  write_atomically(ref, commit);  // no newline, as the reference writes it
}

bool RepoCache::has_file(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(pointer_path(commit, file), ec);  // follows the symlink
}

void RepoCache::link(const std::string& commit, const std::string& file, const std::string& etag) const {
  const fs::path pointer = pointer_path(commit, file);
  std::error_code ec;
  fs::create_directories(pointer.parent_path(), ec);
  // Lexically, as os.path.relpath: ../../blobs/<etag>, one more ../ per folder in `file`.
  const fs::path target =
      fs::absolute(blob_path(etag), ec).lexically_relative(fs::absolute(pointer.parent_path(), ec));
  // Replace atomically: a new symlink under a temporary name, renamed over the pointer.
  const fs::path tmp = pointer.string() + "." + std::to_string(::getpid()) + ".tmp";
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, pointer, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail(ErrorKind::kInvalidArgument, "cannot create ", pointer.string(), ": ", ec.message());
  }
}

std::optional<std::vector<RepoFile>> RepoCache::read_tree(const std::string& commit) const {
  const fs::path path = fs::path(dir()) / "trees" / (commit + ".json");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    const Json j = parse_json(read_file(path.string()), path.string());
    if (!j.is_object() || j.value("format_version", 0) != 1 || !j.contains("files") ||
        !j["files"].is_object())
      return std::nullopt;  // another format: ignored, as the reference ignores it
    std::vector<RepoFile> files;
    for (const auto& [name, info] : j["files"].items()) {
      RepoFile f;
      f.path = name;
      f.size = info.at("size").get<int64_t>();
      f.blob_id = info.at("blob_id").get<std::string>();
      if (info.contains("lfs_sha256") && info["lfs_sha256"].is_string())
        f.lfs_sha256 = info["lfs_sha256"].get<std::string>();
      files.push_back(std::move(f));
    }
    return files;
  } catch (const std::exception&) {
    return std::nullopt;  // a damaged listing is as good as none
  }
}

void RepoCache::write_tree(const std::string& commit, const std::vector<RepoFile>& files) const {
  Json listing = Json::object();
  for (const RepoFile& f : files) {
    Json info = {{"size", f.size}, {"blob_id", f.blob_id}};
    if (!f.lfs_sha256.empty()) {
      info["lfs_sha256"] = f.lfs_sha256;
      info["lfs_size"] = f.size;
    }
    listing[f.path] = info;
  }
  const Json j = {{"format_version", 1}, {"files", listing}};
  write_atomically(fs::path(dir()) / "trees" / (commit + ".json"), j.dump(1));
}

void RepoCache::tag_cache_dir() const {
  const fs::path tag = fs::path(cache_dir_) / "CACHEDIR.TAG";
  std::error_code ec;
  if (fs::exists(tag, ec)) return;
  std::ofstream out(tag, std::ios::binary);
  out << "Signature: 8a477f597d28d172789f06886806bc55\n"
         "# This file is a cache directory tag (the Hugging Face cache, written by kantu).\n"
         "# For information about cache directory tags, see https://bford.info/cachedir/\n";
}

}  // namespace kantu::hub
