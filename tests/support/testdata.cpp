#include "support/testdata.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace kantu::test {

namespace fs = std::filesystem;

const std::string& testdata_dir() {
  static const std::string dir = [] {
    const char* env = std::getenv("KANTU_TESTDATA");
    std::string d = (env && *env) ? env : KANTU_TESTDATA_DEFAULT;
    if (!fs::exists(fs::path(d) / "README.md") || !fs::exists(fs::path(d) / "goldens")) {
      throw std::runtime_error(
          "shared test data not found at '" + d +
          "' (expected README.md and goldens/ there). Set KANTU_TESTDATA to the shared folder.");
    }
    return fs::canonical(d).string();
  }();
  return dir;
}

std::string testdata(const std::string& relative) {
  std::string p = testdata_dir() + "/" + relative;
  if (!fs::exists(p)) throw std::runtime_error("test data file missing: " + p);
  return p;
}

namespace {
// Removes the temp dirs this process made once every test of it has passed; after a failure
// they stay for a look. Not per test: tests share fixtures cached in statics (synthesized
// pairs, converted weights) whose files must outlive the test that made them.
class TempDirCleaner : public ::testing::EmptyTestEventListener {
 public:
  void add(fs::path dir) { dirs_.push_back(std::move(dir)); }
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    if (!unit.Passed()) return;
    std::error_code ignored;
    for (const fs::path& dir : dirs_) fs::remove_all(dir, ignored);
  }

 private:
  std::vector<fs::path> dirs_;
};

TempDirCleaner& temp_dir_cleaner() {
  static TempDirCleaner* cleaner = [] {
    auto* c = new TempDirCleaner;  // owned by gtest's listener list from here on
    ::testing::UnitTest::GetInstance()->listeners().Append(c);
    return c;
  }();
  return *cleaner;
}
}  // namespace

std::string make_temp_dir(const std::string& hint) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = hint;
  if (info) name += std::string("_") + info->test_suite_name() + "_" + info->name();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  }
  fs::path dir = fs::path(KANTU_BINARY_DIR) / "test-tmp" / (name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  temp_dir_cleaner().add(dir);
  return dir.string();
}

void write_text_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string copy_tiny_model(const std::string& name, const std::string& hint) {
  const std::string src = testdata("models/" + name);
  const std::string dir = make_temp_dir(hint);
  for (const auto& entry : fs::directory_iterator(src)) {
    const fs::path to = fs::path(dir) / entry.path().filename();
    if (entry.path().extension() == ".safetensors") {
      fs::create_symlink(entry.path(), to);
    } else {
      fs::copy_file(entry.path(), to);
    }
  }
  return dir;
}

namespace {
std::string slurp_fd(int fd) {
  std::string s;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}
}  // namespace

StartedCommand start_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  // stdout and stderr go to temp files so a chatty child can never deadlock on a pipe.
  static int counter = 0;
  fs::path dir = fs::path(KANTU_BINARY_DIR) / "test-tmp";
  fs::create_directories(dir);
  std::string base =
      (dir / ("cmd_" + std::to_string(::getpid()) + "_" + std::to_string(counter++))).string();
  StartedCommand started;
  const std::string& in_path = started.in_path = base + ".in";
  started.out_path = base + ".out";
  started.err_path = base + ".err";
  write_text_file(in_path, stdin_text);
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(started.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(started.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  started.pid = pid;
  return started;
}

CommandResult wait_command(const StartedCommand& command) {
  CommandResult result;
  int status = 0;
  ::waitpid(command.pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int out = ::open(command.out_path.c_str(), O_RDONLY);
  int err = ::open(command.err_path.c_str(), O_RDONLY);
  result.out = slurp_fd(out);
  result.err = slurp_fd(err);
  ::close(out);
  ::close(err);
  for (const std::string* path : {&command.in_path, &command.out_path, &command.err_path}) {
    ::unlink(path->c_str());
  }
  return result;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text) {
  return wait_command(start_command(argv, stdin_text));
}

CommandResult run_command_on_tty(const std::vector<std::string>& argv) {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  CommandResult result;
  char buf[65536];
  for (;;) {  // read until the child closes the terminal (EIO on Linux)
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace kantu::test
