#include "eval/run_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"

namespace kantu::eval {
namespace {

Json number_or_null(double v) { return v >= 0 ? Json(v) : Json(nullptr); }
Json count_or_null(long long v) { return v >= 0 ? Json(v) : Json(nullptr); }

double number_or_unknown(const Json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return -1;
  if (!j.at(key).is_number()) fail(ErrorKind::kCorrupt, "\"", key, "\" is not a number");
  return j.at(key).get<double>();
}

void write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::kInternal, "cannot write ", path, ": ", std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

// Parses the lines of a predictions file. Returns the byte length of the good prefix;
// a torn (unterminated, unparsable) last line is left out and reported.
size_t parse_lines(const std::string& text, const std::string& path, std::vector<Prediction>& out,
                   bool& torn) {
  torn = false;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    bool last = nl == std::string::npos;
    std::string line = text.substr(pos, last ? std::string::npos : nl - pos);
    ++line_no;
    try {
      if (last) throw std::runtime_error("unterminated line");
      out.push_back(prediction_from_json(parse_json(line, path), cat(path, ":", line_no)));
    } catch (const std::exception& e) {
      if (last) {
        torn = true;
        return pos;
      }
      fail(ErrorKind::kCorrupt, path, ":", line_no, ": bad prediction line: ", e.what());
    }
    pos = nl + 1;
  }
  return pos;
}

}  // namespace

Json prediction_to_json(const Prediction& p) {
  const CaptionTimings& t = p.timings;
  return {{"image_id", p.image_id},
          {"caption", p.caption},
          {"latency_ms", number_or_null(t.total_ms)},
          {"image_encode_ms", number_or_null(t.image_encode_ms)},
          {"prefill_ms", number_or_null(t.prefill_ms)},
          {"decode_ms", number_or_null(t.decode_ms)},
          {"prompt_tokens", count_or_null(t.prompt_tokens)},
          {"generated_tokens", count_or_null(t.generated_tokens)}};
}

Prediction prediction_from_json(const Json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("image_id") || !j.at("image_id").is_string() ||
      !j.contains("caption") || !j.at("caption").is_string())
    fail(ErrorKind::kCorrupt, where, ": needs string \"image_id\" and \"caption\"");
  Prediction p;
  p.image_id = j.at("image_id").get<std::string>();
  p.caption = j.at("caption").get<std::string>();
  try {
    p.timings.total_ms = number_or_unknown(j, "latency_ms");
    p.timings.image_encode_ms = number_or_unknown(j, "image_encode_ms");
    p.timings.prefill_ms = number_or_unknown(j, "prefill_ms");
    p.timings.decode_ms = number_or_unknown(j, "decode_ms");
    p.timings.prompt_tokens = static_cast<long long>(number_or_unknown(j, "prompt_tokens"));
    p.timings.generated_tokens = static_cast<long long>(number_or_unknown(j, "generated_tokens"));
  } catch (const Error& e) {
    fail(ErrorKind::kCorrupt, where, ": ", e.what());
  }
  return p;
}

PredictionLog::PredictionLog(const std::string& run_dir) {
  path_ = (std::filesystem::path(run_dir) / "predictions.jsonl").string();
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(ErrorKind::kNotFound, "cannot open ", path_, ": ", std::strerror(errno));
  // Two writers would record images twice (two array tasks given the same --out).
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      fail(ErrorKind::kInvalidArgument, path_, " is being written by another process (another ",
           "`kantu eval run` with the same --out?)");
    fail(ErrorKind::kInternal, "cannot lock ", path_, ": ", std::strerror(err));
  }
  try {
    std::string text = read_file(path_);
    std::vector<Prediction> preds;
    size_t good = parse_lines(text, path_, preds, dropped_torn_line_);
    if (good < text.size()) {
      if (::ftruncate(fd_, static_cast<off_t>(good)) != 0)
        fail(ErrorKind::kInternal, "cannot truncate ", path_, ": ", std::strerror(errno));
      ::fsync(fd_);
    }
    for (Prediction& p : preds) {
      std::string id = p.image_id;
      if (!done_.emplace(id, std::move(p)).second)
        fail(ErrorKind::kCorrupt, path_, ": image ", id, " appears twice");
    }
    ::lseek(fd_, 0, SEEK_END);
  } catch (...) {
    ::close(fd_);  // and with it the lock
    fd_ = -1;
    throw;
  }
}

PredictionLog::~PredictionLog() {
  if (fd_ >= 0) ::close(fd_);
}

void PredictionLog::append(const Prediction& p) {
  std::string line = prediction_to_json(p).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  write_all(fd_, line, path_);
  if (::fsync(fd_) != 0) fail(ErrorKind::kInternal, "fsync of ", path_, " failed");
  done_[p.image_id] = p;
}

std::vector<Prediction> read_predictions(const std::string& run_dir) {
  std::string path = (std::filesystem::path(run_dir) / "predictions.jsonl").string();
  if (!file_exists(path)) fail(ErrorKind::kNotFound, run_dir, " is not a run directory (no predictions.jsonl)");
  std::vector<Prediction> preds;
  bool torn = false;
  parse_lines(read_file(path), path, preds, torn);
  return preds;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorKind::kNotFound, "cannot write ", tmp, ": ", std::strerror(errno));
  write_all(fd, content, tmp);
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail(ErrorKind::kInternal, "cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
}

}  // namespace kantu::eval
