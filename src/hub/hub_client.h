// The Hub's HTTP protocol as huggingface_hub speaks it:
//   GET  {endpoint}/api/models/{repo}/revision/{rev}?blobs=true  -> commit ("sha") and files
//   HEAD {endpoint}/{repo}/resolve/{commit}/{file}               -> X-Repo-Commit, ETag or
//        X-Linked-Etag, X-Linked-Size; relative redirects (a renamed repo) are followed, an
//        absolute one (the CDN) is where the bytes are fetched, without the token when it
//        is another host.
// Every request retries 408/429/5xx (Retry-After honoured) and dropped, refused or stalled
// connections with exponential backoff. Failures become kantu::Error with a message that
// says what to do (set a token, check the name, the revision, HF_ENDPOINT).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "hub/http.h"
#include "hub/hub_config.h"
#include "hub/repo_cache.h"

namespace kantu::hub {

// The Hub could not be reached or kept failing (connection, timeout, 429/5xx after the
// retries): the caller may fall back to a complete cached snapshot.
class HubUnreachable : public Error {
 public:
  explicit HubUnreachable(const std::string& message) : Error(ErrorKind::kOverloaded, message) {}
};

struct RepoInfo {
  std::string commit;
  std::vector<RepoFile> files;
  bool sizes_known = false;  // every file has size and blob id (?blobs=true was honoured)
};

struct FileMetadata {
  std::string commit;
  std::string etag;      // normalised: no W/ and no quotes
  int64_t size = -1;
  std::string location;  // where to GET the bytes
};

class HubClient {
 public:
  // `notice` receives one-line messages about retries and waits (may be empty).
  explicit HubClient(HubConfig config, std::function<void(const std::string&)> notice = nullptr);

  const HubConfig& config() const { return config_; }

  RepoInfo repo_info(const std::string& repo, const std::string& revision);
  FileMetadata file_metadata(const std::string& repo, const std::string& revision,
                             const std::string& file);

  // One logical request: redirects followed (all of them, or only relative ones), the
  // token sent only to the endpoint's own origin, retried as described above. Returns the
  // final response whatever its status; `made_progress` (optional) tells whether the
  // failed attempt moved forward, which restarts the retry count (as a resumed download).
  enum class Redirects { kAll, kRelativeOnly };
  HttpResponse send(const std::function<HttpRequest()>& make_request, Redirects redirects,
                    const BodySink& sink = nullptr, const std::function<bool()>& made_progress = nullptr);

  // Throws the Error a non-2xx answer deserves; `file` empty for repo-level requests.
  [[noreturn]] void raise_for_status(const HttpResponse& response, const std::string& url,
                                     const std::string& repo, const std::string& revision,
                                     const std::string& file) const;

  // "set HF_TOKEN=... or run `huggingface-cli login`" (said in every auth error).
  std::string token_hint() const;

 private:
  HttpResponse follow(HttpRequest request, Redirects redirects, const BodySink& sink);
  void sleep_before_retry(int attempt, const std::string& why, double retry_after_s);

  HubConfig config_;
  std::function<void(const std::string&)> notice_;
  HttpClient http_;
};

// The ETag header as a blob name: W/ and quotes removed.
std::string normalize_etag(const std::string& etag);

}  // namespace kantu::hub
