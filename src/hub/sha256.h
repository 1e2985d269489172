// Incremental SHA-256 (OpenSSL's libcrypto): LFS files are checked against the Hub's ETag,
// which is the SHA-256 of their content.
#pragma once

#include <cstddef>
#include <string>

namespace kantu::hub {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void reset();
  // Lower-case hex of the digest; the object is reset afterwards.
  std::string hex_digest();

 private:
  void* ctx_;
};

// The SHA-256 of a file's content, in lower-case hex; Error(kNotFound) when unreadable.
std::string sha256_file(const std::string& path);
// True for 64 lower- or upper-case hex digits (the ETag of an LFS file).
bool is_sha256_hex(const std::string& text);

}  // namespace kantu::hub
