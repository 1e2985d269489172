// --weights / --vision-weights / --cache-dir end to end: the first run converts and writes
// the cache, the second maps it (same answer, no conversion message), and bad types are
// clear errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/json.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

test::CommandResult run_weights(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {KANTU_EXE, "run", "-m", test::testdata("models/qwen3vl-tiny-c"),
                                   "--image", test::testdata("images/grad_256x256.png"),
                                   "-p", "Describe this image.", "-n", "6", "--json",
                                   "--threads", "2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return test::run_command(argv);
}

TEST(WeightsCli, ConvertsOnceThenMapsTheCache) {
  const std::string cache = test::make_temp_dir("weights_cli");
  for (const char* type : {"q8", "q4"}) {
    const std::vector<std::string> args = {"--weights", type, "--vision-weights", "q8",
                                           "--cache-dir", cache};
    const auto first = run_weights(args);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("converting"), std::string::npos) << first.err;
    const auto second = run_weights(args);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    EXPECT_EQ(second.err.find("converting"), std::string::npos) << second.err;
    EXPECT_EQ(parse_json(first.out, "first")["ids"], parse_json(second.out, "second")["ids"]);
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(cache)) {
    ++files;
    EXPECT_EQ(e.path().extension(), ".safetensors") << e.path();
  }
  EXPECT_EQ(files, 2);  // q8-q8 and q4-q8, no temporary left behind
}

TEST(WeightsCli, UnknownTypeIsAClearError) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--weights", "q3"}, {"--vision-weights", "int8"}}) {
    const auto r = run_weights(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("expected bf16, q8 or q4"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

}  // namespace
}  // namespace kantu
