#include "hub/cache_scan.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "formats/model_folder.h"
#include "formats/model_summary.h"
#include "hub/file_lock.h"
#include "hub/file_select.h"
#include "hub/pull.h"
#include "hub/repo_cache.h"

namespace kantu::hub {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> sorted_dirs(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (std::error_code probe; e.is_directory(probe)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// refs/<name> files, by the commit they hold.
std::map<std::string, std::vector<std::string>> refs_by_commit(const RepoCache& cache) {
  std::map<std::string, std::vector<std::string>> out;
  const fs::path refs = fs::path(cache.dir()) / "refs";
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(refs, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code unreadable;
    if (!it->is_regular_file(unreadable)) continue;
    const std::string name = it->path().lexically_relative(refs).generic_string();
    if (auto commit = cache.resolve_revision(name)) out[*commit].push_back(name);
  }
  return out;
}

// The blob a snapshot file points to (its symlink target's name), or "" for a plain file.
std::string blob_of(const fs::path& pointer) {
  std::error_code ec;
  if (!fs::is_symlink(pointer, ec)) return {};
  return fs::read_symlink(pointer, ec).filename().string();
}

// Blob names every snapshot of the repo points to, except the files in `skip`.
std::set<std::string> blobs_in_use(const RepoCache& cache, const std::set<std::string>& skip) {
  std::set<std::string> used;
  const fs::path snapshots = fs::path(cache.dir()) / "snapshots";
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(snapshots, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (skip.count(it->path().string())) continue;
    const std::string blob = blob_of(it->path());
    if (!blob.empty()) used.insert(blob);
  }
  return used;
}

int64_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

void add_model(const HubConfig& config, const RepoCache& cache, const std::string& commit,
               const std::vector<std::string>& refs, const std::string& tag, const ModelCheck& check,
               std::vector<CachedModel>* out) {
  CachedModel m;
  m.name = tag.empty() ? cache.repo_id() : cache.repo_id() + ":" + tag;
  m.commit = commit;
  m.refs = refs;
  PullOptions options;
  options.revision = commit;
  const std::optional<PullResult> found = find_cached(config, ModelRef{cache.repo_id(), tag}, options);
  if (!found) {
    m.path = cache.snapshot_dir(commit);
    m.problem = "incomplete: files are missing (run kantu pull " + m.name + ")";
    out->push_back(m);
    return;
  }
  m.path = found->model_path;
  m.mmproj = found->mmproj_path;
  for (const PulledFile& f : found->files) m.bytes += f.size;
  try {
    const ModelFolder model = ModelFolder::open_any(m.path, m.mmproj, {});
    if (check) check(model);
    for (const auto& [dtype, stats] : weight_stats(model.weights()).dtypes) m.weight_types.push_back(dtype);
    m.runnable = true;
  } catch (const Error& e) {
    m.problem = e.what();
  }
  out->push_back(m);
}

}  // namespace

std::vector<CachedModel> scan_cache(const HubConfig& config, const ModelCheck& check) {
  std::vector<CachedModel> models;
  for (const std::string& folder : sorted_dirs(config.cache_dir)) {
    const std::optional<std::string> repo = repo_id_from_folder(folder);
    if (!repo) continue;
    const RepoCache cache(config.cache_dir, *repo);
    const auto refs = refs_by_commit(cache);
    for (const std::string& commit : sorted_dirs(fs::path(cache.dir()) / "snapshots")) {
      if (!is_commit_hash(commit)) continue;
      const auto r = refs.find(commit);
      const std::vector<std::string> names = r == refs.end() ? std::vector<std::string>{} : r->second;
      // A folder model, and one model per GGUF quantization the snapshot holds.
      std::set<std::string> tags;
      bool folder_model = false;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(cache.snapshot_dir(commit), ec)) {
        const std::string name = e.path().filename().string();
        if (name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0) folder_model = true;
      }
      for (auto it = fs::recursive_directory_iterator(cache.snapshot_dir(commit), ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".gguf") == 0 &&
            name.find("mmproj") == std::string::npos && !gguf_file_tag(name).empty())
          tags.insert(gguf_file_tag(name));
      }
      if (folder_model) add_model(config, cache, commit, names, "", check, &models);
      for (const std::string& tag : tags) add_model(config, cache, commit, names, tag, check, &models);
    }
  }
  return models;
}

RemoveReport remove_from_cache(const HubConfig& config, const ModelRef& ref,
                               const std::optional<std::string>& revision) {
  const RepoCache cache(config.cache_dir, ref.repo);
  std::error_code ec;
  if (!fs::is_directory(cache.dir(), ec))
    fail(ErrorKind::kNotFound, ref.repo, " is not in the cache at ", config.cache_dir);
  const std::unique_ptr<FileLock> lock = FileLock::try_lock(cache.repo_lock_path(), FileLock::Mode::kExclusive);
  if (!lock)
    fail(ErrorKind::kOverloaded, ref.repo, " is being pulled by another process; remove it when that ends");

  RemoveReport report;
  const auto remove_repo = [&] {
    const fs::path blobs = fs::path(cache.dir()) / "blobs";
    for (const auto& e : fs::directory_iterator(blobs, ec)) report.freed_bytes += size_of(e.path());
    fs::remove_all(cache.dir(), ec);
    if (ec) fail(ErrorKind::kInvalidArgument, "cannot remove ", cache.dir(), ": ", ec.message());
    report.removed.push_back(cache.dir());
    // .locks/models--ORG--NAME stays (empty files, as huggingface_hub leaves them): a lock
    // file removed while a waiting pull holds it open would let the next process lock a
    // new file of the same name, and two writers would no longer exclude each other.
  };
  if (ref.tag.empty() && !revision) {
    remove_repo();
    return report;
  }

  const std::string rev = revision.value_or("main");
  const std::optional<std::string> commit = cache.resolve_revision(rev);
  if (!commit || !fs::is_directory(cache.snapshot_dir(*commit), ec))
    fail(ErrorKind::kNotFound, ref.repo, " has no snapshot for revision '", rev, "' in the cache at ",
         config.cache_dir);
  const fs::path snapshot = cache.snapshot_dir(*commit);

  // The snapshot files to take out: all of them, or the quantization's.
  std::set<std::string> doomed;
  if (ref.tag.empty()) {
    for (auto it = fs::recursive_directory_iterator(snapshot, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (std::error_code probe; !it->is_directory(probe)) doomed.insert(it->path().string());
  } else {
    PullOptions options;
    options.revision = *commit;
    const std::optional<PullResult> found = find_cached(config, ref, options);
    if (!found) fail(ErrorKind::kNotFound, ref.str(), " is not (completely) in the snapshot ", *commit);
    std::set<std::string> keep;  // what the snapshot's other quantizations still need
    for (const CachedModel& other : scan_cache(config, nullptr)) {  // paths only: no judging
      if (other.commit != *commit || other.name == ref.str() || other.name.rfind(ref.repo + ":", 0) != 0) continue;
      keep.insert(other.path);
      if (!other.mmproj.empty()) keep.insert(other.mmproj);
    }
    for (const std::string& f : found->selection.files) {
      const std::string p = cache.pointer_path(*commit, f);
      if (!keep.count(p)) doomed.insert(p);
    }
  }

  std::set<std::string> blobs;
  for (const std::string& p : doomed) {
    const std::string b = blob_of(p);
    if (!b.empty()) blobs.insert(b);
  }
  const std::set<std::string> used = blobs_in_use(cache, doomed);
  for (const std::string& p : doomed) {
    fs::remove(p, ec);
    report.removed.push_back(p);
  }
  for (const std::string& b : blobs) {
    if (used.count(b)) continue;
    const std::string path = cache.blob_path(b);
    report.freed_bytes += size_of(path);
    if (fs::remove(path, ec)) report.removed.push_back(path);
  }
  // Empty folders left in the snapshot; an empty snapshot goes with its refs and listing.
  for (bool again = true; again;) {
    again = false;
    for (auto it = fs::recursive_directory_iterator(snapshot, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (std::error_code probe;
          it->is_directory(probe) && fs::is_empty(it->path(), probe) && fs::remove(it->path(), probe)) {
        again = true;
        break;
      }
  }
  if (fs::is_empty(snapshot, ec)) {
    fs::remove(snapshot, ec);
    fs::remove(fs::path(cache.dir()) / "trees" / (*commit + ".json"), ec);
    const auto refs = refs_by_commit(cache);
    if (auto r = refs.find(*commit); r != refs.end())
      for (const std::string& name : r->second) fs::remove(fs::path(cache.dir()) / "refs" / name, ec);
    if (sorted_dirs(fs::path(cache.dir()) / "snapshots").empty()) remove_repo();
  }
  return report;
}

}  // namespace kantu::hub
