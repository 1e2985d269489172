// One repository's folder in the Hugging Face cache, laid out exactly as huggingface_hub
// lays it out, so either tool reads what the other wrote:
//   <cache>/models--ORG--NAME/blobs/<etag>                 file contents, named by ETag
//                                                           (SHA-256 for LFS files, git SHA-1 else)
//   <cache>/models--ORG--NAME/blobs/<etag>.incomplete      a download in progress (resumable)
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>    relative symlinks to ../../blobs/<etag>
//                                                           (one more ../ per folder in <path>)
//   <cache>/models--ORG--NAME/refs/<revision>              the commit a branch or tag named
//   <cache>/models--ORG--NAME/trees/<commit>.json          the commit's file listing
//   <cache>/.locks/models--ORG--NAME/<etag>.lock           flock while one blob is written
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kantu::hub {

// One file of a commit as the Hub lists it.
struct RepoFile {
  std::string path;         // relative to the repo root, "/"-separated
  int64_t size = -1;        // bytes (the LFS object's size for LFS files); -1 unknown
  std::string blob_id;      // git object id
  std::string lfs_sha256;   // empty unless the file is stored with LFS
};

// "models--ORG--NAME" for "ORG/NAME".
std::string repo_folder_name(const std::string& repo_id);
// The inverse for a model folder name; nullopt for anything else (datasets, spaces, junk).
std::optional<std::string> repo_id_from_folder(const std::string& folder);
// The Hub name of a path inside a cache snapshot: ORG/NAME for
// .../models--ORG--NAME/snapshots/<commit>[/...], ORG/NAME:TAG for a GGUF model file there
// (TAG from its name); nullopt for any other path.
std::optional<std::string> model_name_of_cache_path(const std::string& path);
// A full commit id: 40 lower-case hex digits.
bool is_commit_hash(const std::string& text);
// False for a repo path that would escape its folder (absolute, "..", "\\", empty parts).
bool is_safe_repo_path(const std::string& path);
// Error(kCorrupt) when !is_safe_repo_path(path).
void check_repo_path(const std::string& path);

class RepoCache {
 public:
  RepoCache(std::string cache_dir, std::string repo_id);

  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& repo_id() const { return repo_id_; }
  std::string dir() const;
  std::string blob_path(const std::string& etag) const;
  std::string snapshot_dir(const std::string& commit) const;
  std::string pointer_path(const std::string& commit, const std::string& file) const;
  std::string blob_lock_path(const std::string& etag) const;
  // Held shared by every pull and exclusively by `kantu rm`, so a removal never races a pull.
  std::string repo_lock_path() const;

  // The commit a revision names: itself for a full commit id, else refs/<revision>.
  std::optional<std::string> resolve_revision(const std::string& revision) const;
  // Writes refs/<revision> atomically (nothing for a commit id or an unchanged ref).
  void write_ref(const std::string& revision, const std::string& commit) const;

  // True when snapshots/<commit>/<file> exists and reaches its blob.
  bool has_file(const std::string& commit, const std::string& file) const;
  // snapshots/<commit>/<file> -> the blob, as a relative symlink (replacing what was there).
  void link(const std::string& commit, const std::string& file, const std::string& etag) const;

  std::optional<std::vector<RepoFile>> read_tree(const std::string& commit) const;
  void write_tree(const std::string& commit, const std::vector<RepoFile>& files) const;

  // CACHEDIR.TAG in the cache root, so backup tools skip the cache (as the reference does).
  void tag_cache_dir() const;

 private:
  std::string cache_dir_, repo_id_;
};

}  // namespace kantu::hub
