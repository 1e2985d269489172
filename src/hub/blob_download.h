// Fetches one file's bytes into the cache as blobs/<etag>: appended to
// blobs/<etag>.incomplete (resumed from its length with a Range request after an
// interruption, this run's or an earlier one's), checked (size; SHA-256 against the ETag
// for LFS files, a mismatch discards the bytes and adds nothing), then renamed into place.
// The caller holds the blob's lock (RepoCache::blob_lock_path).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hub/hub_client.h"

namespace kantu::hub {

struct BlobRequest {
  std::string url;           // where the bytes are (FileMetadata::location)
  std::string etag;          // the blob's name; a SHA-256 for LFS files
  int64_t size = 0;          // bytes expected
  std::string display_name;  // the repo path, for messages
  std::string blob_path;     // destination (RepoCache::blob_path(etag))
  // A fresh `url` when the server refuses the one given (403/410: a signed CDN link that
  // expired during a long download); may be empty.
  std::function<std::string()> relocate;
};

struct BlobOutcome {
  int64_t resumed_from = 0;   // bytes that were already in .incomplete
  bool sha256_verified = false;
};

// `progress` gets the bytes on disk so far (resumed ones included).
BlobOutcome download_blob(HubClient& client, const BlobRequest& request,
                          const std::function<void(int64_t)>& progress);

}  // namespace kantu::hub
