// Where the shared test data (../shared: tiny models, goldens, images) lives, and
// small helpers for tests. KANTU_TESTDATA overrides the configured default. A
// missing folder is a hard failure, never a silent skip.
#pragma once

#include <string>
#include <vector>

namespace kantu::test {

// The shared data root; throws std::runtime_error with a clear message if absent.
const std::string& testdata_dir();
// testdata_dir() + "/" + relative; fails the test loudly if the path does not exist.
std::string testdata(const std::string& relative);
// A fresh empty directory for this test under the build tree (build/<preset>/test-tmp), removed
// when the test program ends with every test passed (kept after a failure, to look at).
std::string make_temp_dir(const std::string& hint);
void write_text_file(const std::string& path, const std::string& content);
// A writable copy of shared tiny model `name` (models/<name>) in a fresh temp dir: every
// small file copied (a test may edit them), the safetensors weights symlinked (never
// modified).
std::string copy_tiny_model(const std::string& name, const std::string& hint);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs a program with arguments (no shell) and captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");

// The same in two steps, for programs that must run at the same time.
struct StartedCommand {
  int pid = -1;
  std::string in_path, out_path, err_path;  // removed by wait_command
};
StartedCommand start_command(const std::vector<std::string>& argv, const std::string& stdin_text = "");
CommandResult wait_command(const StartedCommand& command);

// Runs a program with a pseudo-terminal as stdin, stdout and stderr (as a person at a
// terminal would); `out` is everything it printed there, `err` stays empty.
CommandResult run_command_on_tty(const std::vector<std::string>& argv);

}  // namespace kantu::test
