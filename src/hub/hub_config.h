// Where the Hugging Face Hub and its cache are, read from the same environment variables
// huggingface_hub reads, so kantu and the Python tools share one cache and one login:
//   HF_ENDPOINT (mirrors, e.g. https://hf-mirror.com), HF_TOKEN (else HUGGING_FACE_HUB_TOKEN,
//   else the file HF_TOKEN_PATH, default $HF_HOME/token, that `huggingface-cli login` writes),
//   HF_HUB_CACHE (else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub; HF_HOME defaults to
//   $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface), HF_HUB_OFFLINE (1/ON/YES/TRUE),
//   HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT (seconds). Proxies come from the usual
//   http_proxy / https_proxy / no_proxy variables, which libcurl reads itself.
#pragma once

#include <string>

namespace kantu::hub {

inline constexpr const char* kDefaultEndpoint = "https://huggingface.co";

struct HubConfig {
  std::string endpoint = kDefaultEndpoint;  // no trailing slash
  std::string token;                        // empty: anonymous
  std::string token_source;                 // "HF_TOKEN", or the token file's path
  std::string cache_dir;                    // the hub cache (folders models--ORG--NAME)
  bool offline = false;
  double metadata_timeout_s = 10;  // API and HEAD requests, whole request
  double download_timeout_s = 10;  // connect, and longest stall while a body streams
  int max_retries = 5;             // on 408/429/5xx and dropped or stalled connections
  double retry_base_s = 1;         // first backoff; doubles up to retry_max_s
  double retry_max_s = 8;

  // The configuration the environment describes.
  static HubConfig from_env();
};

// The reference client's notion of a true environment value ("1", "ON", "YES", "TRUE").
bool env_flag(const char* name);

}  // namespace kantu::hub
