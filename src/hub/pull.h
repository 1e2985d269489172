// A model from the Hub into the cache (`kantu pull`, and `-m ORG/NAME` when the cache
// lacks it), and the same question answered from the cache alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hub/file_select.h"
#include "hub/hub_config.h"
#include "hub/model_ref.h"

namespace kantu::hub {

struct PullOptions {
  std::string revision = "main";      // branch, tag or commit
  std::vector<std::string> include;   // globs replacing the default selection
};

struct PulledFile {
  enum class Status {
    kCached,      // already in this snapshot
    kLinked,      // its blob was already there (another revision, or a duplicate)
    kDownloaded,
    kResumed,     // continued from an interrupted download
  };
  std::string path;  // in the repo
  std::string etag;
  int64_t size = 0;
  Status status = Status::kCached;
  bool sha256_verified = false;
  double seconds = 0;
};
const char* status_name(PulledFile::Status status);

struct PullResult {
  std::string repo, revision, commit, snapshot_dir;
  Selection selection;
  std::string model_path;   // what -m opens: the snapshot folder, or the GGUF model file
  std::string mmproj_path;  // GGUF: its mmproj file, or ""
  std::vector<PulledFile> files;
  int64_t bytes_downloaded = 0;
  bool from_cache_only = false;  // answered without asking the Hub
};

// What a pull reports as it goes (progress bars, JSON lines). All methods are optional.
class PullObserver {
 public:
  virtual ~PullObserver() = default;
  // The files still to fetch, after the metadata of each was read.
  virtual void planned(const std::string& /*repo*/, const std::string& /*commit*/, int /*files*/,
                       int64_t /*bytes*/) {}
  virtual void file_started(const std::string& /*path*/, int64_t /*size*/, int64_t /*resumed_from*/) {}
  virtual void file_progress(const std::string& /*path*/, int64_t /*done*/, int64_t /*size*/) {}
  virtual void file_done(const PulledFile& /*file*/) {}
  virtual void notice(const std::string& /*message*/) {}
};

// Asks the Hub for the revision's commit and files, then fetches what the snapshot lacks.
// HF_HUB_OFFLINE, or a Hub that cannot be reached, falls back to a complete cached snapshot
// (as huggingface_hub does); otherwise errors say what failed and what to do.
PullResult pull(const HubConfig& config, const ModelRef& ref, const PullOptions& options,
                PullObserver* observer);

// The snapshot the cache holds for the revision when it has every file the selection
// needs (judged by the commit's listing in trees/, else by the files present); no network.
std::optional<PullResult> find_cached(const HubConfig& config, const ModelRef& ref,
                                      const PullOptions& options);

// "1.5 GB", "312 KB" (powers of 1000, as the Hub shows sizes).
std::string human_bytes(int64_t bytes);

}  // namespace kantu::hub
