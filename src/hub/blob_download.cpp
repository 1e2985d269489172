#include "hub/blob_download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "hub/pull.h"
#include "hub/sha256.h"

namespace kantu::hub {

namespace {

// The partial file, open for appending; closed on scope exit.
class PartialFile {
 public:
  explicit PartialFile(const std::string& path) : path_(path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) fail(ErrorKind::kInvalidArgument, "cannot create ", path, ": ", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail(ErrorKind::kInvalidArgument, "cannot stat ", path);
    size_ = st.st_size;
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  int64_t size() const { return size_; }
  int fd() const { return fd_; }

  void truncate() {
    if (size_ == 0) return;
    if (::ftruncate(fd_, 0) != 0)
      fail(ErrorKind::kInvalidArgument, "cannot truncate ", path_, ": ", std::strerror(errno));
    size_ = 0;
  }
  // False with errno set when the write fails (disk full, I/O error).
  bool append(const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, data, n, size_);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data += w;
      n -= static_cast<size_t>(w);
      size_ += w;
    }
    return true;
  }
  // Hashes what is already on disk (a resumed download continues the digest).
  void hash_existing(Sha256* h) const {
    std::vector<char> buf(1 << 20);
    for (int64_t at = 0; at < size_;) {
      const ssize_t r = ::pread(fd_, buf.data(), static_cast<size_t>(std::min<int64_t>(buf.size(), size_ - at)), at);
      if (r <= 0) fail(ErrorKind::kInvalidArgument, "cannot read ", path_, ": ", std::strerror(errno));
      h->update(buf.data(), static_cast<size_t>(r));
      at += r;
    }
  }
  void sync_and_close() {
    const bool ok = ::fsync(fd_) == 0;
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (!ok) fail(ErrorKind::kInvalidArgument, "cannot write ", path_, ": ", std::strerror(err));
  }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = 0;
};

// The first byte a 206 answer covers ("bytes 100-199/200"), or -1.
int64_t content_range_start(const HttpResponse& r) {
  const std::string v = r.header("Content-Range");
  const size_t sp = v.find(' ');
  if (v.rfind("bytes", 0) != 0 || sp == std::string::npos) return -1;
  char* end = nullptr;
  const long long start = std::strtoll(v.c_str() + sp + 1, &end, 10);
  return (end && *end == '-') ? start : -1;
}

}  // namespace

BlobOutcome download_blob(HubClient& client, const BlobRequest& req,
                          const std::function<void(int64_t)>& progress) {
  const std::string partial_path = req.blob_path + ".incomplete";
  PartialFile partial(partial_path);
  BlobOutcome outcome;
  const bool lfs = is_sha256_hex(req.etag);
  Sha256 digest;
  if (partial.size() > req.size) partial.truncate();  // not this file's beginning
  if (lfs) partial.hash_existing(&digest);
  outcome.resumed_from = partial.size();
  if (progress) progress(partial.size());

  int write_errno = 0;
  bool overflow = false;
  int64_t attempt_start = 0;
  bool first_chunk = true;
  const auto sink = [&](const HttpResponse& head, const char* data, size_t n) {
    if (first_chunk) {
      first_chunk = false;
      // A 200 answers the whole file (the server ignored Range); a 206 must start where we are.
      if (head.status != 206 || content_range_start(head) != partial.size()) {
        partial.truncate();
        digest.reset();
      }
    }
    if (partial.size() + static_cast<int64_t>(n) > req.size) {
      overflow = true;
      return false;
    }
    if (!partial.append(data, n)) {
      write_errno = errno;
      return false;
    }
    if (lfs) digest.update(data, n);
    if (progress) progress(partial.size());
    return true;
  };
  std::string url = req.url;
  int relocations = 0;
  const auto make = [&] {
    HttpRequest q;
    q.url = url;
    q.connect_timeout_s = client.config().download_timeout_s;
    q.stall_timeout_s = client.config().download_timeout_s;
    if (partial.size() > 0) q.range_from = partial.size();
    first_chunk = true;
    attempt_start = partial.size();
    return q;
  };
  const auto made_progress = [&] { return partial.size() > attempt_start; };

  while (partial.size() < req.size) {
    HttpResponse r;
    try {
      r = client.send(make, HubClient::Redirects::kAll, sink, made_progress);
    } catch (const TransportError& e) {
      if (overflow) {
        partial.truncate();
        fail(ErrorKind::kCorrupt, req.display_name, ": the server sent more than the ", req.size,
             " bytes the Hub announced (X-Linked-Size); nothing was added to the cache");
      }
      if (write_errno == ENOSPC || write_errno == EDQUOT)
        fail(ErrorKind::kTooLarge, "disk full while writing ", req.display_name, " into ", partial_path,
             " (", human_bytes(partial.size()), " of ", human_bytes(req.size),
             " written): free some space and pull again; the download resumes from there");
      if (write_errno != 0)
        fail(ErrorKind::kInvalidArgument, "cannot write ", partial_path, ": ", std::strerror(write_errno));
      throw HubUnreachable(e.what());
    }
    if (r.status == 416) {  // our partial file is not a prefix the server knows: start over
      partial.truncate();
      digest.reset();
      continue;
    }
    const bool refused = r.status == 403 || r.status == 410;
    if (refused && req.relocate && relocations < 2) {  // the partial file is kept: resumed
      ++relocations;
      url = req.relocate();
      continue;
    }
    if (r.status < 200 || r.status >= 300)
      fail(ErrorKind::kNotFound, "downloading ", req.display_name, ": ", r.url, " answered HTTP ", r.status,
           refused ? " (the download link was refused, also after asking the Hub for a new one)" : "");
    if (partial.size() < req.size && !made_progress())
      throw HubUnreachable(cat("downloading ", req.display_name, ": ", r.url, " ended the body after ",
                               partial.size(), " of ", req.size, " bytes without sending more"));
  }

  if (lfs) {
    const std::string got = digest.hex_digest();
    std::string want = req.etag;
    std::transform(want.begin(), want.end(), want.begin(), [](unsigned char c) { return std::tolower(c); });
    if (got != want) {
      partial.truncate();
      std::error_code ec;
      std::filesystem::remove(partial_path, ec);
      fail(ErrorKind::kCorrupt, req.display_name, ": the downloaded bytes have SHA-256 ", got,
           " but the Hub says ", want, " (its ETag); they were discarded and nothing was added to the "
           "cache. Pull again; if it repeats, the server or a proxy is altering the file");
    }
    outcome.sha256_verified = true;
  }
  partial.sync_and_close();
  std::error_code ec;
  std::filesystem::rename(partial_path, req.blob_path, ec);
  if (ec) fail(ErrorKind::kInvalidArgument, "cannot move ", partial_path, " to ", req.blob_path, ": ", ec.message());
  return outcome;
}

}  // namespace kantu::hub
