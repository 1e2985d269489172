// Environment variables set for one test (and the processes it starts), the previous
// values restored when the scope ends.
#pragma once

#include <stdlib.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kantu::test {

class EnvScope {
 public:
  // `names` are saved and unset; set() and unset() then change them for the scope.
  explicit EnvScope(std::initializer_list<const char*> names) {
    for (const char* n : names) {
      const char* v = std::getenv(n);
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
  }
  ~EnvScope() {
    for (const auto& [n, v] : saved_) {
      if (v) {
        ::setenv(n.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(n.c_str());
      }
    }
  }
  EnvScope(const EnvScope&) = delete;
  EnvScope& operator=(const EnvScope&) = delete;
  void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }
  void unset(const char* name) { ::unsetenv(name); }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// The proxy variables libcurl reads, unset for the scope: tests that talk to servers over
// loopback must not go through a proxy the machine happens to name.
class ProxyEnvScope : public EnvScope {
 public:
  ProxyEnvScope()
      : EnvScope({"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}) {}
};

}  // namespace kantu::test
