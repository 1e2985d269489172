// How a pull shows itself: a progress bar on a terminal (bytes, speed, ETA; the file and
// the total), one JSON line per file (--json), or nothing but notices (not a terminal).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "hub/pull.h"

namespace kantu::hub {

// Notices (retries, waits, fallbacks) as lines on `err`; no progress.
class QuietProgress : public PullObserver {
 public:
  explicit QuietProgress(std::FILE* err) : err_(err) {}
  void notice(const std::string& message) override;

 protected:
  std::FILE* err_;
};

// One line redrawn in place on a terminal.
class TerminalProgress : public QuietProgress {
 public:
  explicit TerminalProgress(std::FILE* err) : QuietProgress(err) {}
  void planned(const std::string& repo, const std::string& commit, int files, int64_t bytes) override;
  void file_started(const std::string& path, int64_t size, int64_t resumed_from) override;
  void file_progress(const std::string& path, int64_t done, int64_t size) override;
  void file_done(const PulledFile& file) override;
  void notice(const std::string& message) override;

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool force);
  void clear_line();

  int files_total_ = 0, files_done_ = 0;
  int64_t bytes_total_ = 0, bytes_before_file_ = 0;
  std::string path_;
  int64_t size_ = 0, done_ = 0, resumed_from_ = 0;
  Clock::time_point file_start_{}, last_draw_{};
  bool line_open_ = false;
};

// {"file":..,"size":..,"etag":..,"status":"downloaded|resumed|linked|cached",
//  "sha256_verified":..,"seconds":..} per file on `out`; notices on `err`.
class JsonLinesProgress : public QuietProgress {
 public:
  JsonLinesProgress(std::FILE* out, std::FILE* err) : QuietProgress(err), out_(out) {}
  void file_done(const PulledFile& file) override;

 private:
  std::FILE* out_;
};

}  // namespace kantu::hub
