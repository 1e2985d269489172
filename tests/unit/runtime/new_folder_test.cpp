// Output folders appear whole or not at all.
#include "runtime/new_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "support/testdata.h"

namespace kantu::runtime {
namespace {

namespace fs = std::filesystem;

// Entries of `dir` whose name contains ".partial-" (what a failed write could leave).
int partial_siblings(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir))
    n += e.path().filename().string().find(".partial-") != std::string::npos;
  return n;
}

TEST(NewFolder, ChecksTheName) {
  const fs::path dir = test::make_temp_dir("new_folder_check");
  EXPECT_EQ(check_new_folder((dir / "a").string()), fs::absolute(dir / "a"));
  fs::create_directory(dir / "taken");
  EXPECT_THROW(check_new_folder((dir / "taken").string()), Error);
  EXPECT_THROW(check_new_folder((dir / "no" / "such" / "parent").string()), Error);
  EXPECT_THROW(check_new_folder(""), Error);
}

TEST(NewFolder, AppearsOnlyWhenFillingSucceeds) {
  const fs::path dir = test::make_temp_dir("new_folder_atomic");
  write_folder_atomically(dir / "ok", [](const fs::path& tmp) {
    std::ofstream(tmp / "file.txt") << "done";
  });
  EXPECT_TRUE(fs::exists(dir / "ok" / "file.txt"));

  EXPECT_THROW(write_folder_atomically(dir / "failed",
                                       [](const fs::path& tmp) {
                                         std::ofstream(tmp / "half.txt") << "half";
                                         throw std::runtime_error("disk full");
                                       }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(dir / "failed"));
  EXPECT_EQ(partial_siblings(dir), 0);
}

}  // namespace
}  // namespace kantu::runtime
