// Process memory probes (Linux /proc).
#pragma once

namespace kantu {

// Peak resident set size of this process in MiB (VmHWM), or -1 if unknown.
double peak_rss_mb();
// Current resident set size in MiB (VmRSS), or -1 if unknown.
double current_rss_mb();

}  // namespace kantu
