#include "core/memory.h"

#include <cstdio>
#include <cstring>

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
}  // namespace

double peak_rss_mb() {
  double kb = read_status_kb("VmHWM:");
  return kb < 0 ? -1 : kb / 1024.0;
}

double current_rss_mb() {
  double kb = read_status_kb("VmRSS:");
  return kb < 0 ? -1 : kb / 1024.0;
}

}  // namespace kantu
