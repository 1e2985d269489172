#include "hub/hub_client.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "core/json.h"

namespace kantu::hub {

namespace {

constexpr size_t kMaxAnswerBytes = size_t{64} << 20;  // the file listing of a huge repo fits
constexpr int kMaxRedirects = 10;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool retryable_status(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

// Retry-After in seconds (the HTTP-date form is not used by the Hub); -1 when absent.
double retry_after_s(const HttpResponse& r) {
  const std::string v = r.header("Retry-After");
  if (v.empty()) return -1;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  return (end != v.c_str() && s >= 0) ? s : -1;
}

// The server's own words: X-Error-Message, else {"error": "..."} in the body.
std::string server_message(const HttpResponse& r) {
  std::string m = r.header("X-Error-Message");
  if (m.empty() && !r.body.empty()) {
    const Json j = Json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) m = j["error"].get<std::string>();
  }
  if (m.size() > 300) m = m.substr(0, 300) + "...";
  return m;
}

std::string printable_start(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 80)) out += (c >= 32 && c < 127) ? c : ' ';
  return out;
}

}  // namespace

std::string normalize_etag(const std::string& etag) {
  std::string e = etag;
  if (starts_with(e, "W/")) e = e.substr(2);
  while (!e.empty() && e.front() == '"') e.erase(e.begin());
  while (!e.empty() && e.back() == '"') e.pop_back();
  return e;
}

HubClient::HubClient(HubConfig config, std::function<void(const std::string&)> notice)
    : config_(std::move(config)), notice_(std::move(notice)) {}

std::string HubClient::token_hint() const {
  return "set a token: HF_TOKEN=hf_... (a read token from https://huggingface.co/settings/tokens), "
         "or run `huggingface-cli login`, which stores it in $HF_HOME/token (~/.cache/huggingface/token)";
}

void HubClient::sleep_before_retry(int attempt, const std::string& why, double retry_after) {
  double wait = std::min(config_.retry_max_s, config_.retry_base_s * std::pow(2.0, attempt));
  if (retry_after >= 0) wait = std::min(retry_after, 120.0);
  if (notice_)
    notice_(cat(why, "; retrying in ", std::round(wait * 10) / 10, " s (", attempt + 1, "/",
                config_.max_retries, ")"));
  std::this_thread::sleep_for(std::chrono::duration<double>(wait));
}

HttpResponse HubClient::follow(HttpRequest request, Redirects redirects, const BodySink& sink) {
  const std::string endpoint_origin = url_origin(config_.endpoint);
  for (int hop = 0;; ++hop) {
    // The token goes to the endpoint's origin only: never to a CDN or another host.
    request.headers.erase("Authorization");
    if (!config_.token.empty() && url_origin(request.url) == endpoint_origin)
      request.headers["Authorization"] = "Bearer " + config_.token;
    HttpResponse r = http_.perform(request, sink, kMaxAnswerBytes);
    const std::string location = r.header("Location");
    if (!r.is_redirect() || location.empty()) return r;
    const bool absolute =
        starts_with(location, "http://") || starts_with(location, "https://") || starts_with(location, "//");
    if (redirects == Redirects::kRelativeOnly && absolute) return r;
    if (hop >= kMaxRedirects)
      fail(ErrorKind::kCorrupt, "more than ", kMaxRedirects, " redirects starting from ", request.url);
    request.url = resolve_url(request.url, location);
  }
}

HttpResponse HubClient::send(const std::function<HttpRequest()>& make_request, Redirects redirects,
                             const BodySink& sink, const std::function<bool()>& made_progress) {
  for (int attempt = 0;; ++attempt) {
    const HttpRequest request = make_request();
    std::string why;
    double wait = -1;
    try {
      HttpResponse r = follow(request, redirects, sink);
      if (!retryable_status(r.status)) return r;
      if (attempt >= config_.max_retries) {
        if (r.status == 429 || r.status >= 500)
          throw HubUnreachable(cat(request.url, " answered HTTP ", r.status,
                                   r.status == 429 ? " (too many requests)" : " (server error)",
                                   " after ", attempt + 1, " tries; try again later",
                                   server_message(r).empty() ? "" : ": " + server_message(r)));
        return r;
      }
      why = cat("HTTP ", r.status, " from ", request.url);
      wait = retry_after_s(r);
    } catch (const TransportError& e) {
      using Kind = TransportError::Kind;
      if (e.kind() == Kind::kWrite || e.kind() == Kind::kAborted) throw;
      if (made_progress && made_progress()) attempt = 0;  // a resumed download keeps trying
      if (e.kind() == Kind::kOther || attempt >= config_.max_retries)
        throw HubUnreachable(cat(e.what(), e.kind() == Kind::kOther ? "" : cat(" (after ", attempt + 1, " tries)"),
                                 "; check the network, the proxy settings (https_proxy) and HF_ENDPOINT (",
                                 config_.endpoint, ")"));
      why = e.what();
    }
    sleep_before_retry(attempt, why, wait);
  }
}

void HubClient::raise_for_status(const HttpResponse& r, const std::string& url, const std::string& repo,
                                 const std::string& revision, const std::string& file) const {
  const std::string code = r.header("X-Error-Code");
  const std::string message = server_message(r);
  const std::string said = message.empty() ? "" : " (the server says: " + message + ")";
  const std::string where = config_.endpoint;
  const std::string token_used =
      config_.token.empty() ? "" : " with the token from " + config_.token_source;
  if (code == "GatedRepo")
    fail(ErrorKind::kInvalidArgument, repo, " is a gated model (HTTP ", r.status, ")", said,
         ": request access at ", where, "/", repo, " while logged in, then ",
         config_.token.empty() ? token_hint() : "make sure the token from " + config_.token_source +
                                                     " belongs to that account");
  if (code == "RevisionNotFound")
    fail(ErrorKind::kNotFound, "revision '", revision, "' not found in ", repo, " on ", where, said);
  if (code == "EntryNotFound" || (r.status == 404 && !file.empty() && code.empty()))
    fail(ErrorKind::kNotFound, "file '", file, "' not found in ", repo, " at revision '", revision, "' on ",
         where, said);
  if (r.status == 401 && message == "Invalid credentials in Authorization header")
    fail(ErrorKind::kInvalidArgument, where, " refused the token from ", config_.token_source,
         " (invalid credentials): ", token_hint());
  if (code == "RepoNotFound" || r.status == 401 || r.status == 404)
    fail(ErrorKind::kNotFound, "repository ", repo, " not found on ", where, token_used, " (HTTP ", r.status,
         ")", said, ": check the name; if it is private or gated, ",
         config_.token.empty() ? token_hint() : "check that this token can read it");
  if (r.status == 403)
    fail(ErrorKind::kInvalidArgument, where, " refused access to ", repo, token_used, " (HTTP 403 Forbidden)",
         said, ": ", config_.token.empty() ? token_hint() : "the token lacks the permission, or the model is gated "
                                                              "and its conditions are not accepted yet");
  if (r.status == 429 || r.status >= 500)
    throw HubUnreachable(cat(url, " answered HTTP ", r.status, said, "; try again later"));
  fail(ErrorKind::kUnsupported, url, " answered HTTP ", r.status, said,
       "; is HF_ENDPOINT (", where, ") a Hugging Face Hub or mirror?");
}

RepoInfo HubClient::repo_info(const std::string& repo, const std::string& revision) {
  const std::string url = config_.endpoint + "/api/models/" + repo + "/revision/" +
                          url_quote(revision, /*keep_slash=*/false) + "?blobs=true";
  const auto make = [&] {
    HttpRequest q;
    q.url = url;
    q.timeout_s = config_.metadata_timeout_s;
    q.connect_timeout_s = config_.metadata_timeout_s;
    q.headers["Accept"] = "application/json";
    return q;
  };
  const HttpResponse r = send(make, Redirects::kAll);
  if (r.status < 200 || r.status >= 300) raise_for_status(r, url, repo, revision, "");

  const auto not_a_hub = [&](const std::string& why) {
    fail(ErrorKind::kUnsupported, "HF_ENDPOINT ", config_.endpoint,
         " does not answer like a Hugging Face Hub: GET ", url, " returned ", why,
         " (Content-Type: ", r.header("Content-Type").empty() ? "none" : r.header("Content-Type"),
         ", body starts '", printable_start(r.body), "'); set HF_ENDPOINT to the Hub or a mirror "
         "such as https://hf-mirror.com");
  };
  const Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) not_a_hub("no JSON object");
  if (!j.contains("sha") || !j["sha"].is_string() || !is_commit_hash(j["sha"].get<std::string>()))
    not_a_hub("no commit id (\"sha\")");
  if (!j.contains("siblings") || !j["siblings"].is_array()) not_a_hub("no file list (\"siblings\")");

  RepoInfo info;
  info.commit = j["sha"].get<std::string>();
  info.sizes_known = true;
  for (const Json& s : j["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
      not_a_hub("a file entry without \"rfilename\"");
    RepoFile f;
    f.path = s["rfilename"].get<std::string>();
    check_repo_path(f.path);
    if (s.contains("size") && s["size"].is_number_integer()) f.size = s["size"].get<int64_t>();
    if (s.contains("blobId") && s["blobId"].is_string()) f.blob_id = s["blobId"].get<std::string>();
    if (s.contains("lfs") && s["lfs"].is_object()) {
      const Json& lfs = s["lfs"];
      if (lfs.contains("sha256") && lfs["sha256"].is_string()) f.lfs_sha256 = lfs["sha256"].get<std::string>();
      if (lfs.contains("size") && lfs["size"].is_number_integer()) f.size = lfs["size"].get<int64_t>();
    }
    if (f.size < 0 || f.blob_id.empty()) info.sizes_known = false;
    info.files.push_back(std::move(f));
  }
  return info;
}

FileMetadata HubClient::file_metadata(const std::string& repo, const std::string& revision,
                                      const std::string& file) {
  const std::string url = config_.endpoint + "/" + repo + "/resolve/" +
                          url_quote(revision, /*keep_slash=*/false) + "/" +
                          url_quote(file, /*keep_slash=*/true);
  const auto make = [&] {
    HttpRequest q;
    q.method = "HEAD";
    q.url = url;
    q.timeout_s = config_.metadata_timeout_s;
    q.connect_timeout_s = config_.metadata_timeout_s;
    q.headers["Accept-Encoding"] = "identity";  // the real size, not a compressed one
    return q;
  };
  const HttpResponse r = send(make, Redirects::kRelativeOnly);
  if (r.status < 200 || r.status >= 400) raise_for_status(r, url, repo, revision, file);

  const auto not_a_hub = [&](const std::string& why) {
    fail(ErrorKind::kUnsupported, "HF_ENDPOINT ", config_.endpoint,
         " does not answer like a Hugging Face Hub: HEAD ", r.url, " has no ", why,
         " header; check HF_ENDPOINT and the proxy settings");
  };
  FileMetadata m;
  m.commit = r.header("X-Repo-Commit");
  if (m.commit.empty()) not_a_hub("X-Repo-Commit");
  m.etag = normalize_etag(!r.header("X-Linked-Etag").empty() ? r.header("X-Linked-Etag") : r.header("ETag"));
  if (m.etag.empty()) not_a_hub("ETag");
  if (!is_safe_repo_path(m.etag) || m.etag.find('/') != std::string::npos)
    fail(ErrorKind::kCorrupt, "HEAD ", r.url, ": the ETag '", m.etag, "' cannot name a file");
  std::string size = r.header("X-Linked-Size");
  if (size.empty() && !r.is_redirect()) size = r.header("Content-Length");
  char* end = nullptr;
  m.size = size.empty() ? -1 : std::strtoll(size.c_str(), &end, 10);
  if (size.empty() || *end != '\0' || m.size < 0) not_a_hub("usable X-Linked-Size or Content-Length");
  m.location = r.is_redirect() ? resolve_url(r.url, r.header("Location")) : r.url;
  return m;
}

}  // namespace kantu::hub
