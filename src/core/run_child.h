// Running another program to completion with this process's stdin, stdout and stderr
// (its progress shows on the terminal), and measuring it on its own: exit status and the
// peak resident memory the kernel recorded for that child alone (wait4's ru_maxrss).
// `kantu eval compare` runs each model in its own `kantu eval run` child this way.
#pragma once

#include <string>
#include <vector>

namespace kantu {

struct ChildResult {
  int exit_code = -1;       // 128 + signal number when killed by a signal
  double peak_rss_mb = -1;  // MiB
};

// argv[0] is a path or a name searched in PATH. Error(kNotFound) when it cannot start.
ChildResult run_child(const std::vector<std::string>& argv);

// This program's own executable (to run kantu subcommands as children).
std::string self_executable();

}  // namespace kantu
