// A Hugging Face Hub double for tests, on cpp-httplib over loopback (ephemeral ports):
// the real endpoints and headers of the Hub (GET /api/models/{repo}/revision/{rev},
// HEAD/GET /{repo}/resolve/{rev}/{path}, X-Repo-Commit, ETag, X-Linked-Etag,
// X-Linked-Size, X-Error-Code) and a second origin, the "CDN", that serves the LFS files
// (Range requests) the Hub redirects to. Faults can be switched on: a connection dropped
// in the middle of a file, a corrupted body, a stalled or slow CDN, 429/503 answers, a
// server that is not a Hub at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kantu::test {

struct MockFile {
  std::string path;
  std::string content;
  bool lfs = false;  // served through the CDN, ETag = SHA-256
};

struct MockRepo {
  std::string id;                           // ORG/NAME
  std::string commit;                       // 40 hex digits
  std::map<std::string, std::string> refs;  // revision -> commit ("main" added if absent)
  std::vector<MockFile> files;
  bool gated = false;                       // needs "Authorization: Bearer <token>"
  std::string renamed_from;                 // old ORG/NAME answered with a relative redirect
};

// Faults; each counter is consumed as requests arrive.
struct MockFaults {
  std::string drop_file;          // the next GET of this file's bytes is cut ...
  int64_t drop_after_bytes = 0;   // ... after this many bytes (once)
  std::string corrupt_file;       // every body of this file has one byte changed
  std::string stall_file;         // the next GET of this file sends nothing for stall_ms
  int stall_ms = 0;
  int chunk_delay_ms = 0;         // slow CDN: a pause per 64 KiB chunk
  int api_errors = 0;             // the next N API calls answer api_error_status
  int api_error_status = 503;
  int cdn_errors = 0;             // the next N CDN GETs answer 503
  int cdn_expired = 0;            // the next N CDN GETs answer 403, as an expired signed link
  bool not_a_hub = false;         // every answer is an HTML page
  std::string inflate_file;       // announced (X-Linked-Size, listing) as 10^17 bytes
};

class MockHub {
 public:
  MockHub();
  ~MockHub();
  MockHub(const MockHub&) = delete;
  MockHub& operator=(const MockHub&) = delete;

  void add_repo(MockRepo repo);
  std::string endpoint() const;  // http://127.0.0.1:PORT of the Hub
  std::string cdn() const;       // the CDN's origin
  std::string token() const { return "hf_mocktoken_0123456789"; }

  // Thread-safe access to the faults.
  void set_faults(const MockFaults& faults);

  // What was seen.
  int64_t cdn_bytes_sent(const std::string& path) const;  // body bytes of this file
  int cdn_gets(const std::string& path) const;
  bool cdn_saw_authorization() const { return cdn_saw_auth_; }
  int api_calls() const { return api_calls_; }
  int resolve_calls() const { return resolve_calls_; }
  std::vector<std::string> ranges_seen(const std::string& path) const;  // Range headers

  // Reference values for a file's content.
  static std::string sha256_hex(const std::string& data);
  static std::string git_blob_sha1(const std::string& data);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cdn_saw_auth_{false};
  std::atomic<int> api_calls_{0}, resolve_calls_{0};
};

// A forward HTTP proxy, what http_proxy names: each request (an absolute URL) is relayed
// to its origin and the URL recorded. Range requests are not relayed faithfully (httplib
// would cut the relayed part again): use it for whole downloads.
class MockProxy {
 public:
  MockProxy();
  ~MockProxy();
  MockProxy(const MockProxy&) = delete;
  MockProxy& operator=(const MockProxy&) = delete;

  std::string url() const;                 // http://127.0.0.1:PORT
  std::vector<std::string> relayed() const;  // "METHOD URL", in order

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes the repo's files into a Hugging Face cache by hand, as huggingface_hub lays them
// out (blobs named by ETag, relative snapshot links, refs/main; no trees/ listing, as the
// versions before it; a .no_exist marker, a pull request's ref and a dataset beside it):
// for reading caches that kantu did not write.
void write_cache_by_hand(const std::string& cache_dir, const MockRepo& repo);

// The files of a model folder on disk as a mock repo (safetensors and *.gguf are LFS).
MockRepo mock_repo_from_folder(const std::string& id, const std::string& folder, const std::string& commit);

}  // namespace kantu::test
