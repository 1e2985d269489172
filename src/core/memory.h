// Process memory probes (Linux /proc).
#pragma once

#include <string>

namespace kantu {

// Peak resident set size of this process in MiB (VmHWM), or -1 if unknown.
double peak_rss_mb();
// Current resident set size in MiB (VmRSS), or -1 if unknown.
double current_rss_mb();
// The anonymous part of it (RssAnon: heap and private memory, not mapped files), or -1.
double anonymous_rss_mb();

// How much memory this process could use now: the system's MemAvailable (/proc/meminfo)
// plus what the process already holds, or less when its cgroup (v2 memory.max, v1
// memory.limit_in_bytes: a container's or a systemd unit's MemoryMax) leaves less.
struct AvailableMemory {
  double mb = -1;      // -1: unknown
  std::string source;  // what set it, e.g. "MemAvailable" or "cgroup memory.max"
};
AvailableMemory available_memory();

}  // namespace kantu
