#include "core/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace kantu {

namespace {
double read_status_kb(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  double value = -1;
  const size_t key_len = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, key, key_len) == 0) {
      long kb = 0;
      if (std::sscanf(line + key_len, "%ld", &kb) == 1) value = static_cast<double>(kb);
      break;
    }
  }
  std::fclose(f);
  return value;
}
// The first number in a file (bytes), or -1; "max" (cgroup v2: no limit) is -1 too.
double read_number(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return -1;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    return -1;
  }
}

double meminfo_kb(const char* key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0) return std::atof(line.c_str() + n);
  }
  return -1;
}

// The memory limit and usage of this process's cgroup in bytes (-1: none or unknown).
std::pair<double, double> cgroup_limit_and_usage() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // v2: "0::/path"; v1: "4:memory:/path" (the mounts may show the namespace root only).
    std::string path;
    if (line.rfind("0::", 0) == 0) {
      path = line.substr(3);
      for (const std::string& d : {"/sys/fs/cgroup" + path, std::string("/sys/fs/cgroup")}) {
        const double limit = read_number(d + "/memory.max");
        if (limit > 0) return {limit, read_number(d + "/memory.current")};
      }
    } else if (size_t at = line.find(":memory:"); at != std::string::npos) {
      path = line.substr(at + 8);
      for (const std::string& d : {"/sys/fs/cgroup/memory" + path, std::string("/sys/fs/cgroup/memory")}) {
        const double limit = read_number(d + "/memory.limit_in_bytes");
        if (limit > 0 && limit < 1e18) return {limit, read_number(d + "/memory.usage_in_bytes")};
      }
    }
  }
  return {-1, -1};
}

}  // namespace

AvailableMemory available_memory() {
  AvailableMemory out;
  const double own = std::max(0.0, current_rss_mb());
  const double free_kb = meminfo_kb("MemAvailable:");
  if (free_kb >= 0) {
    out.mb = free_kb / 1024 + own;
    out.source = "MemAvailable";
  }
  const auto [limit, usage] = cgroup_limit_and_usage();
  if (limit > 0) {
    const double others = usage >= 0 ? std::max(0.0, usage / 1048576 - own) : 0;
    const double cg = limit / 1048576 - others;
    if (out.mb < 0 || cg < out.mb) {
      out.mb = cg;
      out.source = "the cgroup's memory limit";
    }
  }
  return out;
}

double peak_rss_mb() {
  double kb = read_status_kb("VmHWM:");
  return kb < 0 ? -1 : kb / 1024.0;
}

double current_rss_mb() {
  double kb = read_status_kb("VmRSS:");
  return kb < 0 ? -1 : kb / 1024.0;
}

double anonymous_rss_mb() {
  double kb = read_status_kb("RssAnon:");
  return kb < 0 ? -1 : kb / 1024.0;
}

}  // namespace kantu
