// --activations f32|bf16|int8 end to end: every command that loads a model takes it, each
// precision answers (the kernels are tested against the reference in tests/unit/kernels,
// the accuracy against the goldens in tests/conformance/precision_test.cpp), bench
// reports which one ran, and anything else is a clear error before any work.
#include <gtest/gtest.h>

#include "core/json.h"
#include "support/testdata.h"

namespace kantu {
namespace {

std::vector<std::string> run_argv(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {KANTU_EXE, "run", "-m", test::testdata("models/qwen3vl-tiny-c"),
                                   "--image", test::testdata("images/grad_256x256.png"),
                                   "-p", "Describe this image.", "-n", "4", "--json",
                                   "--threads", "2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(ActivationsCli, EveryPrecisionAnswers) {
  const std::string cache = test::make_temp_dir("activations_cli");
  for (const char* acts : {"f32", "bf16", "int8"}) {
    for (const char* weights : {"bf16", "q8"}) {
      const auto r = test::run_command(run_argv(
          {"--activations", acts, "--weights", weights, "--cache-dir", cache}));
      ASSERT_EQ(r.exit_code, 0) << acts << " " << weights << ": " << r.err;
      EXPECT_EQ(parse_json(r.out, "run")["ids"].size(), 4u) << r.out;
    }
  }
}

TEST(ActivationsCli, BenchSaysWhichPrecisionRan) {
  const std::string cache = test::make_temp_dir("activations_bench");
  struct Expect {
    std::vector<std::string> flags;
    const char* text;
    const char* vision;
  };
  for (const Expect& e : {Expect{{}, "f32", "f32"},  // float weights: faithful by default
                          Expect{{"--weights", "q8", "--vision-weights", "bf16"}, "int8", "f32"},
                          Expect{{"--activations", "bf16"}, "bf16", "bf16"},
                          // float weights have no int8 form: they run bf16
                          Expect{{"--weights", "q4", "--activations", "int8"}, "int8", "int8"},
                          Expect{{"--vision-weights", "bf16", "--activations", "int8"}, "bf16", "bf16"}}) {
    std::vector<std::string> argv = {KANTU_EXE, "bench", "-m", test::testdata("models/qwen3vl-tiny-c"),
                                     "--image-size", "64", "--gen-tokens", "2", "--threads", "2",
                                     "--json", "--no-peaks", "--cache-dir", cache};
    argv.insert(argv.end(), e.flags.begin(), e.flags.end());
    const auto r = test::run_command(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json j = parse_json(r.out.substr(r.out.rfind('{')), "bench");
    EXPECT_EQ(j["text_activations"], e.text) << r.out;
    EXPECT_EQ(j["vision_activations"], e.vision) << r.out;
  }
}

TEST(ActivationsCli, UnknownPrecisionIsAClearError) {
  const std::string model = test::testdata("models/qwen3vl-tiny-c");
  for (const std::vector<std::string>& argv :
       {run_argv({"--activations", "fp16"}),
        std::vector<std::string>{KANTU_EXE, "bench", "-m", model, "--activations", "int4"},
        std::vector<std::string>{KANTU_EXE, "serve", "-m", model, "--port", "0", "--activations", "F32"},
        std::vector<std::string>{KANTU_EXE, "eval", "run", "-m", model, "--annotations",
                                 "none.json", "--images", "none", "--out",
                                 test::make_temp_dir("activations_eval") + "/run", "--activations",
                                 "int"}}) {
    const auto r = test::run_command(argv);
    EXPECT_NE(r.exit_code, 0) << argv[1];
    EXPECT_NE(r.err.find("expected f32, bf16 or int8"), std::string::npos) << argv[1] << ": " << r.err;
  }
}

}  // namespace
}  // namespace kantu
