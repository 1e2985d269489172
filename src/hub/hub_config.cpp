#include "hub/hub_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace kantu::hub {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// "~" and "$VAR" as os.path.expanduser / expandvars would turn them.
std::string expand_path(std::string p) {
  if (!p.empty() && p[0] == '~' && (p.size() == 1 || p[1] == '/')) p = env("HOME") + p.substr(1);
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] != '$') {
      out += p[i];
      continue;
    }
    size_t j = i + 1;
    const bool braced = j < p.size() && p[j] == '{';
    if (braced) ++j;
    size_t k = j;
    while (k < p.size() && (std::isalnum(static_cast<unsigned char>(p[k])) || p[k] == '_')) ++k;
    if (k == j || (braced && (k >= p.size() || p[k] != '}'))) {
      out += p[i];  // not a variable: kept as written, as Python does
      continue;
    }
    const std::string name = p.substr(j, k - j);
    if (const char* v = std::getenv(name.c_str())) {
      out += v;
    } else {
      out += p.substr(i, k + (braced ? 1 : 0) - i);
    }
    i = k - (braced ? 0 : 1);
  }
  return out;
}

// The token as the reference cleans it: line breaks removed, surrounding space stripped.
std::string clean_token(std::string t) {
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '\r' || c == '\n'; }),
          t.end());
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  t.erase(t.begin(), std::find_if(t.begin(), t.end(), not_space));
  t.erase(std::find_if(t.rbegin(), t.rend(), not_space).base(), t.end());
  return t;
}

double seconds_from_env(const char* name, double fallback) {
  const std::string v = env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(s > 0))
    fail(ErrorKind::kInvalidArgument, name, "=", v, " is not a positive number of seconds");
  return s;
}

}  // namespace

bool env_flag(const char* name) {
  std::string v = env(name);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

HubConfig HubConfig::from_env() {
  HubConfig c;
  std::string endpoint = env("HF_ENDPOINT");
  if (!endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    if (endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
      fail(ErrorKind::kInvalidArgument, "HF_ENDPOINT=", env("HF_ENDPOINT"),
           " must be an http:// or https:// URL (e.g. https://hf-mirror.com)");
    c.endpoint = endpoint;
  }

  const std::string xdg = env("XDG_CACHE_HOME");
  const std::string default_home =
      (fs::path(xdg.empty() ? expand_path("~/.cache") : xdg) / "huggingface").string();
  const std::string hf_home = expand_path(env("HF_HOME").empty() ? default_home : env("HF_HOME"));
  std::string cache = env("HF_HUB_CACHE");
  if (cache.empty()) cache = env("HUGGINGFACE_HUB_CACHE");
  if (cache.empty()) cache = (fs::path(hf_home) / "hub").string();
  c.cache_dir = expand_path(cache);

  c.offline = env_flag("HF_HUB_OFFLINE") || env_flag("TRANSFORMERS_OFFLINE");

  std::string token = clean_token(env("HF_TOKEN"));
  c.token_source = "HF_TOKEN";
  if (token.empty()) {
    token = clean_token(env("HUGGING_FACE_HUB_TOKEN"));
    c.token_source = "HUGGING_FACE_HUB_TOKEN";
  }
  if (token.empty()) {
    const std::string path = expand_path(
        env("HF_TOKEN_PATH").empty() ? (fs::path(hf_home) / "token").string() : env("HF_TOKEN_PATH"));
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream s;
      s << in.rdbuf();
      token = clean_token(s.str());
      c.token_source = path;
    }
  }
  c.token = token;
  if (token.empty()) c.token_source.clear();

  c.metadata_timeout_s = seconds_from_env("HF_HUB_ETAG_TIMEOUT", c.metadata_timeout_s);
  c.download_timeout_s = seconds_from_env("HF_HUB_DOWNLOAD_TIMEOUT", c.download_timeout_s);
  return c;
}

}  // namespace kantu::hub
