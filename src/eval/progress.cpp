#include "eval/progress.h"

#include <unistd.h>

#include <cmath>

namespace kantu::eval {
namespace {

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::string label, size_t total, size_t already, std::FILE* out)
    : label_(std::move(label)), total_(total), already_(already), done_(already), out_(out),
      terminal_(isatty(fileno(out)) == 1) {
  draw(true);
}

std::string Progress::format(const std::string& label, size_t done, size_t total, size_t already,
                             double seconds, bool terminal) {
  size_t fresh = done - already;
  double rate = seconds > 0 ? static_cast<double>(fresh) / seconds : 0;
  double eta = rate > 0 ? static_cast<double>(total - done) / rate : -1;
  char buf[256];
  if (terminal) {
    constexpr int kWidth = 24;
    int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    std::snprintf(buf, sizeof(buf), "\r%s %zu/%zu [%s] %.2f img/s ETA %s ", label.c_str(), done,
                  total, bar.c_str(), rate, done == total ? "0:00" : duration(eta).c_str());
  } else {
    std::snprintf(buf, sizeof(buf), "%s: %zu/%zu images (%.0f%%), %.2f img/s, ETA %s\n",
                  label.c_str(), done, total, total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                  rate, done == total ? "0:00" : duration(eta).c_str());
  }
  return buf;
}

void Progress::draw(bool force) {
  double now = timer_.ms() / 1000.0;
  if (!force) {
    if (terminal_ && now - last_print_s_ < 0.1) return;
    if (!terminal_) {
      size_t step = total_ >= 10 ? total_ / 10 : 1;
      if (done_ - last_print_done_ < step && now - last_print_s_ < 30) return;
    }
  }
  std::fputs(format(label_, done_, total_, already_, now, terminal_).c_str(), out_);
  std::fflush(out_);
  last_print_s_ = now;
  last_print_done_ = done_;
}

void Progress::advance() {
  ++done_;
  draw(done_ == total_);
}

void Progress::finish() {
  if (last_print_done_ != done_) draw(true);
  if (terminal_) std::fputs("\n", out_);
  std::fflush(out_);
}

}  // namespace kantu::eval
