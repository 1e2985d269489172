// `kantu eval compare` end to end: two tiny models in process (each in its own process)
// and a `kantu serve` endpoint caption the same photos; the report holds all three, the
// gallery and the quality-versus-speed chart; a second run resumes without captioning
// again; a model that fails does not stop the others.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/json.h"
#include "core/mapped_file.h"
#include "core/subprocess.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

size_t lines_in(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<std::string> compare_args(const std::string& out, const std::string& endpoint) {
  std::vector<std::string> argv = {KANTU_EXE, "eval", "compare",
                                   "--model", test::testdata("models/qwen3vl-tiny-a"),
                                   "--model", test::testdata("models/llava15-tiny-a"),
                                   "--annotations", test::testdata("images/photos/captions.json"),
                                   "--images", test::testdata("images/photos"),
                                   "--out", out, "--limit", "2", "--max-tokens", "6", "--threads", "1"};
  if (!endpoint.empty()) argv.insert(argv.end(), {"--endpoint", endpoint});
  return argv;
}

TEST(EvalCompare, ModelsAndAnEndpointInOneReportResumable) {
  Subprocess server({KANTU_EXE, "serve", "-m", test::testdata("models/llava-next-tiny-a"), "--port", "0",
                     "--threads", "1"},
                    "");
  int port = 0;
  for (;;) {
    const Json event = parse_json(server.read_line(60), "kantu serve event");
    if (event.at("event") == "listening") port = event.at("port").get<int>();
    if (event.at("event") == "ready") break;
  }
  const std::string out = test::make_temp_dir("eval_compare");
  const std::string endpoint = "llava-next=http://127.0.0.1:" + std::to_string(port);
  auto r = test::run_command(compare_args(out, endpoint));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"qwen3vl-tiny-a", "llava15-tiny-a", "llava-next"}) {
    EXPECT_NE(r.out.find(std::string("| ") + name + " ("), std::string::npos) << r.out;
    EXPECT_EQ(lines_in(out + "/runs/" + name + "/predictions.jsonl"), 2u) << name;
  }
  const Json report = read_json_file(out + "/report.json");
  ASSERT_EQ(report.at("runs").size(), 3u);
  for (const Json& run : report.at("runs")) {
    EXPECT_EQ(run.at("peak_memory_mb").is_number(), run.at("backend") == "local") << run.dump();
  }
  const std::string html = read_file(out + "/report.html");
  EXPECT_EQ(count(html, "class=\"bubble\""), 3u);
  EXPECT_EQ(count(html, "stroke-dasharray"), 1u);  // the endpoint's unknown memory
  EXPECT_EQ(count(html, "<figure class=\"item\""), 2u);
  EXPECT_EQ(count(html, "src=\"data:image/jpeg;base64,"), 2u);
  const Json record = read_json_file(out + "/compare.json");
  for (const Json& m : record.at("models")) EXPECT_TRUE(m.at("finished").get<bool>()) << m.dump();

  // Again: every run resumes, nothing is captioned twice.
  r = test::run_command(compare_args(out, endpoint));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines_in(out + "/runs/llava15-tiny-a/predictions.jsonl"), 2u);
  EXPECT_EQ(lines_in(out + "/runs/llava-next/predictions.jsonl"), 2u);
  server.signal(SIGTERM);
  server.wait();
}

TEST(EvalCompare, AFailingModelLeavesTheOthersAndSaysWhich) {
  const std::string out = test::make_temp_dir("eval_compare_fail");
  std::vector<std::string> argv = compare_args(out, "");
  argv.insert(argv.end(), {"--model", out + "/no-such-model"});
  const auto r = test::run_command(argv);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not finished: no-such-model"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out + "/report.html"));
  EXPECT_EQ(read_json_file(out + "/report.json").at("runs").size(), 2u);

  const auto bad = test::run_command({KANTU_EXE, "eval", "compare", "--endpoint", "http://h:1", "--annotations", "a",
                                      "--images", "b", "--out", out});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("NAME=URL"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace kantu
