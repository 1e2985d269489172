#include "hub/progress.h"

#include <algorithm>

#include "core/json.h"

namespace kantu::hub {

namespace {

std::string short_name(const std::string& path) {
  return path.size() <= 32 ? path : "..." + path.substr(path.size() - 29);
}

std::string duration(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60);
  }
  return buf;
}

}  // namespace

void QuietProgress::notice(const std::string& message) {
  std::fprintf(err_, "kantu: %s\n", message.c_str());
  std::fflush(err_);
}

void TerminalProgress::planned(const std::string& repo, const std::string& commit, int files, int64_t bytes) {
  files_total_ = files;
  bytes_total_ = bytes;
  if (files > 0)
    std::fprintf(err_, "pulling %s (commit %s): %d file%s, %s\n", repo.c_str(), commit.substr(0, 12).c_str(),
                 files, files == 1 ? "" : "s", human_bytes(bytes).c_str());
  std::fflush(err_);
}

void TerminalProgress::file_started(const std::string& path, int64_t size, int64_t resumed_from) {
  path_ = path;
  size_ = size;
  done_ = resumed_from;
  resumed_from_ = resumed_from;
  file_start_ = Clock::now();
  draw(true);
}

void TerminalProgress::file_progress(const std::string&, int64_t done, int64_t) {
  done_ = done;
  draw(false);
}

void TerminalProgress::clear_line() {
  if (line_open_) std::fputs("\r\033[K", err_);
  line_open_ = false;
}

void TerminalProgress::draw(bool force) {
  const auto now = Clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - file_start_).count();
  const double speed = elapsed > 0.2 ? static_cast<double>(done_ - resumed_from_) / elapsed : 0;
  const int pct = size_ > 0 ? static_cast<int>(100 * done_ / size_) : 100;
  const int width = 20, filled = std::clamp(pct * width / 100, 0, width);
  const std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  const int64_t total_done = bytes_before_file_ + (done_ - resumed_from_);
  std::string eta = "--";
  if (speed > 0 && bytes_total_ > total_done) eta = duration(static_cast<double>(bytes_total_ - total_done) / speed);
  std::fprintf(err_, "\r\033[K%-32s [%s] %3d%% %s/%s %s/s | total %s/%s (%d/%d files) ETA %s",
               short_name(path_).c_str(), bar.c_str(), pct, human_bytes(done_).c_str(),
               human_bytes(size_).c_str(), human_bytes(static_cast<int64_t>(speed)).c_str(),
               human_bytes(total_done).c_str(), human_bytes(bytes_total_).c_str(), files_done_,
               files_total_, eta.c_str());
  std::fflush(err_);
  line_open_ = true;
}

void TerminalProgress::file_done(const PulledFile& file) {
  if (file.status == PulledFile::Status::kCached) return;  // nothing happened to show
  clear_line();
  ++files_done_;
  if (file.status == PulledFile::Status::kDownloaded || file.status == PulledFile::Status::kResumed)
    bytes_before_file_ += file.size - (file.path == path_ ? resumed_from_ : 0);
  const double speed = file.seconds > 0 ? static_cast<double>(file.size) / file.seconds : 0;
  std::fprintf(err_, "%-32s %10s  %-10s %s/s%s\n", short_name(file.path).c_str(), human_bytes(file.size).c_str(),
               status_name(file.status), human_bytes(static_cast<int64_t>(speed)).c_str(),
               file.sha256_verified ? "  sha256 ok" : "");
  std::fflush(err_);
}

void TerminalProgress::notice(const std::string& message) {
  clear_line();
  QuietProgress::notice(message);
}

void JsonLinesProgress::file_done(const PulledFile& file) {
  const Json j = {{"file", file.path},
                  {"size", file.size},
                  {"etag", file.etag},
                  {"status", status_name(file.status)},
                  {"sha256_verified", file.sha256_verified},
                  {"seconds", file.seconds}};
  std::fprintf(out_, "%s\n", j.dump().c_str());
  std::fflush(out_);
}

}  // namespace kantu::hub
