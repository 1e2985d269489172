#include "hub/pull.h"

#include <sys/statvfs.h>

#include <chrono>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/mapped_file.h"
#include "hub/blob_download.h"
#include "hub/file_lock.h"
#include "hub/hub_client.h"
#include "hub/repo_cache.h"

namespace kantu::hub {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// Free bytes for an unprivileged writer at `dir` (or its nearest existing parent).
int64_t free_bytes(fs::path dir) {
  std::error_code ec;
  while (!dir.empty() && !fs::exists(dir, ec)) dir = dir.parent_path();
  struct statvfs st {};
  if (dir.empty() || ::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

// Every file under a snapshot, as repo paths.
std::vector<std::string> snapshot_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    // lexically: fs::relative would resolve the symlink to its blob.
    std::error_code broken;  // a dangling link is skipped, not the end of the walk
    if (it->is_regular_file(broken)) files.push_back(it->path().lexically_relative(dir).generic_string());
  }
  return files;
}

PullResult result_for(const RepoCache& cache, const ModelRef& ref, const std::string& revision,
                      const std::string& commit, const Selection& selection) {
  PullResult r;
  r.repo = ref.repo;
  r.revision = revision;
  r.commit = commit;
  r.snapshot_dir = cache.snapshot_dir(commit);
  r.selection = selection;
  r.model_path = selection.gguf ? cache.pointer_path(commit, selection.model_file) : r.snapshot_dir;
  if (!selection.mmproj_file.empty()) r.mmproj_path = cache.pointer_path(commit, selection.mmproj_file);
  return r;
}

PulledFile cached_file(const RepoCache& cache, const std::string& commit, const std::string& path) {
  PulledFile f;
  f.path = path;
  f.status = PulledFile::Status::kCached;
  std::error_code ec;
  const std::string pointer = cache.pointer_path(commit, path);
  f.size = static_cast<int64_t>(fs::file_size(pointer, ec));
  if (fs::is_symlink(pointer, ec)) f.etag = fs::read_symlink(pointer, ec).filename().string();
  return f;
}

// One file of the snapshot fetched (or linked to a blob already there).
class Fetcher {
 public:
  Fetcher(HubClient& client, const RepoCache& cache, const ModelRef& ref, std::string commit,
          PullObserver* observer)
      : client_(client), cache_(cache), ref_(ref), commit_(std::move(commit)), observer_(observer) {}

  FileMetadata metadata(const std::string& path) {
    FileMetadata m = client_.file_metadata(ref_.repo, commit_, path);
    return m;
  }

  PulledFile fetch(const std::string& path, const FileMetadata& m) {
    const auto start = Clock::now();
    PulledFile f;
    f.path = path;
    f.etag = m.etag;
    f.size = m.size;
    const std::string blob = cache_.blob_path(m.etag);
    // The blob's lock, as huggingface_hub takes it: one writer per blob across processes.
    FileLock lock(cache_.blob_lock_path(m.etag), FileLock::Mode::kExclusive, [&] {
      if (observer_) observer_->notice("waiting for another process that is downloading " + path);
    });
    std::error_code ec;
    if (fs::is_regular_file(blob, ec)) {
      f.status = PulledFile::Status::kLinked;
    } else {
      BlobRequest req;
      req.url = m.location;
      req.etag = m.etag;
      req.size = m.size;
      req.display_name = path;
      req.blob_path = blob;
      req.relocate = [&] {
        if (observer_) observer_->notice("the download link of " + path + " was refused (expired?); asking the Hub for a new one");
        return metadata(path).location;
      };
      bool started = false;
      const auto progress = [&](int64_t done) {
        if (!observer_) return;
        if (!started) {
          started = true;
          observer_->file_started(path, m.size, done);
        }
        observer_->file_progress(path, done, m.size);
      };
      const BlobOutcome o = download_blob(client_, req, progress);
      f.status = o.resumed_from > 0 ? PulledFile::Status::kResumed : PulledFile::Status::kDownloaded;
      f.sha256_verified = o.sha256_verified;
      downloaded_ += m.size - o.resumed_from;
    }
    cache_.link(commit_, path, m.etag);
    f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (observer_) observer_->file_done(f);
    return f;
  }

  int64_t downloaded() const { return downloaded_; }

 private:
  HubClient& client_;
  const RepoCache& cache_;
  const ModelRef& ref_;
  std::string commit_;
  PullObserver* observer_;
  int64_t downloaded_ = 0;
};

std::string cache_location_hint(const HubConfig& config) {
  return "the cache at " + config.cache_dir + " (HF_HUB_CACHE)";
}

}  // namespace

const char* status_name(PulledFile::Status status) {
  switch (status) {
    case PulledFile::Status::kCached: return "cached";
    case PulledFile::Status::kLinked: return "linked";
    case PulledFile::Status::kDownloaded: return "downloaded";
    case PulledFile::Status::kResumed: return "resumed";
  }
  return "?";
}

std::string human_bytes(int64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::optional<PullResult> find_cached(const HubConfig& config, const ModelRef& ref,
                                      const PullOptions& options) {
  const RepoCache cache(config.cache_dir, ref.repo);
  const std::optional<std::string> commit = cache.resolve_revision(options.revision);
  std::error_code ec;
  if (!commit || !fs::is_directory(cache.snapshot_dir(*commit), ec)) return std::nullopt;
  const std::optional<std::vector<RepoFile>> listing = cache.read_tree(*commit);
  std::vector<std::string> paths;
  if (listing) {
    for (const RepoFile& f : *listing) paths.push_back(f.path);
  } else {
    paths = snapshot_files(cache.snapshot_dir(*commit));
  }
  const IndexReader read_index = [&](const std::string& index) {
    if (!cache.has_file(*commit, index)) fail(ErrorKind::kNotFound, index, " is not cached");
    return parse_safetensors_index(read_file(cache.pointer_path(*commit, index)), index);
  };
  Selection selection;
  try {
    selection = select_files(ref.repo, paths, ref.tag, options.include, read_index);
  } catch (const Error&) {
    return std::nullopt;  // the Hub gives the definitive answer (and error) online
  }
  for (const std::string& f : selection.files)
    if (!cache.has_file(*commit, f)) return std::nullopt;
  PullResult r = result_for(cache, ref, options.revision, *commit, selection);
  r.from_cache_only = true;
  for (const std::string& f : selection.files) r.files.push_back(cached_file(cache, *commit, f));
  return r;
}

PullResult pull(const HubConfig& config, const ModelRef& ref, const PullOptions& options,
                PullObserver* observer) {
  const auto notice = [observer](const std::string& m) {
    if (observer) observer->notice(m);
  };
  if (config.offline) {
    if (auto cached = find_cached(config, ref, options)) return *cached;
    fail(ErrorKind::kNotFound, "HF_HUB_OFFLINE is set and ", ref.str(), " (revision ", options.revision,
         ") is not complete in ", cache_location_hint(config), "; unset HF_HUB_OFFLINE to download it");
  }
  const RepoCache cache(config.cache_dir, ref.repo);
  // Shared: pulls of one repo run side by side (blob locks keep them apart); `kantu rm`
  // takes it exclusively.
  FileLock repo_lock(cache.repo_lock_path(), FileLock::Mode::kShared,
                     [&] { notice("waiting: " + ref.repo + " is being removed by another process"); });
  HubClient client(config, notice);

  RepoInfo info;
  try {
    info = client.repo_info(ref.repo, options.revision);
  } catch (const HubUnreachable& e) {
    if (auto cached = find_cached(config, ref, options)) {
      notice(cat("cannot reach ", config.endpoint, " (", e.what(), "); using the cached snapshot ",
                 cached->commit));
      return *cached;
    }
    throw;
  }
  cache.tag_cache_dir();
  cache.write_ref(options.revision, info.commit);
  if (info.sizes_known) cache.write_tree(info.commit, info.files);

  Fetcher fetcher(client, cache, ref, info.commit, observer);
  std::map<std::string, PulledFile> done;  // fetched while selecting (the safetensors index)
  const IndexReader read_index = [&](const std::string& index) {
    if (!cache.has_file(info.commit, index)) done[index] = fetcher.fetch(index, fetcher.metadata(index));
    return parse_safetensors_index(read_file(cache.pointer_path(info.commit, index)), index);
  };
  std::vector<std::string> paths;
  for (const RepoFile& f : info.files) paths.push_back(f.path);
  const Selection selection = select_files(ref.repo, paths, ref.tag, options.include, read_index);
  PullResult result = result_for(cache, ref, options.revision, info.commit, selection);

  // Metadata first: the total for the progress bar and the disk-space check come before any byte.
  std::vector<std::pair<std::string, FileMetadata>> missing;
  int64_t to_fetch = 0;
  for (const std::string& path : selection.files) {
    if (done.count(path) || cache.has_file(info.commit, path)) continue;
    FileMetadata m = fetcher.metadata(path);
    std::error_code ec;
    if (!fs::is_regular_file(cache.blob_path(m.etag), ec)) {
      const auto partial = fs::file_size(cache.blob_path(m.etag) + ".incomplete", ec);
      to_fetch += m.size - (ec ? 0 : std::min<int64_t>(static_cast<int64_t>(partial), m.size));
    }
    missing.emplace_back(path, std::move(m));
  }
  const int64_t free = free_bytes(fs::path(cache.dir()) / "blobs");
  if (free >= 0 && to_fetch > free)
    fail(ErrorKind::kTooLarge, "not enough disk space for ", ref.str(), ": the download needs ",
         human_bytes(to_fetch), " but ", cache.cache_dir(), " has ", human_bytes(free),
         " free; free some space or set HF_HUB_CACHE to a larger disk");
  if (observer) observer->planned(ref.repo, info.commit, static_cast<int>(missing.size()), to_fetch);

  for (const std::string& path : selection.files) {
    if (done.count(path)) {
      result.files.push_back(done[path]);
      continue;
    }
    auto it = std::find_if(missing.begin(), missing.end(), [&](const auto& p) { return p.first == path; });
    if (it == missing.end()) {
      result.files.push_back(cached_file(cache, info.commit, path));
      if (observer) observer->file_done(result.files.back());
      continue;
    }
    result.files.push_back(fetcher.fetch(path, it->second));
  }
  result.bytes_downloaded = fetcher.downloaded();
  return result;
}

}  // namespace kantu::hub
