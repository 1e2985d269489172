// eval compare's command line: model and endpoint entries, unique run names, and the
// `kantu eval run` each model gets (same images, prompt and limit for all).
#include <gtest/gtest.h>

#include <algorithm>

#include "eval/compare.h"
#include "eval/local_backend.h"
#include "support/expect_error.h"

namespace kantu::eval {
namespace {

TEST(EvalCompare, EntriesGetUniqueFileSafeNames) {
  const auto models = compare_models({"/m/Qwen3-VL-2B", "/other/Qwen3-VL-2B/", "/g/llava-next.Q4_K_M.gguf,/g/mmproj.gguf"},
                                     {"mplug owl3=http://10.0.0.5:8000", "cogvlm=https://a:1,https://b:2"});
  ASSERT_EQ(models.size(), 5u);
  EXPECT_EQ(models[0].name, "Qwen3-VL-2B");
  EXPECT_EQ(models[1].name, "Qwen3-VL-2B-2");
  EXPECT_EQ(models[2].name, "llava-next.Q4_K_M");
  EXPECT_EQ(models[2].mmproj, "/g/mmproj.gguf");
  EXPECT_EQ(models[3].name, "mplug_owl3");
  EXPECT_EQ(models[3].model, "mplug owl3");  // the name the server expects, as given
  EXPECT_EQ(models[4].endpoint, "https://a:1,https://b:2");
}

TEST(EvalCompare, EveryRunGetsTheSameImagesAndPrompt) {
  CompareOptions o;
  o.models = compare_models({"/m/a"}, {"e=http://h:1"});
  o.annotations = "ann.json";
  o.images_dir = "imgs";
  o.out_dir = "out";
  o.limit = 7;
  o.prompt = "Say it.";
  o.max_tokens = 20;
  o.threads = 2;
  o.local_args = {"--weights", "q8"};
  o.kantu = "/bin/kantu";
  const auto local = eval_run_argv(o.models[0], o);
  const auto remote = eval_run_argv(o.models[1], o);
  for (const auto& argv : {local, remote}) {
    const std::string joined = [&] {
      std::string s;
      for (const std::string& a : argv) s += a + "|";
      return s;
    }();
    EXPECT_NE(joined.find("/bin/kantu|eval|run|"), std::string::npos);
    EXPECT_NE(joined.find("|--annotations|ann.json|--images|imgs|--limit|7|--prompt|Say it.|--max-tokens|20|"),
              std::string::npos)
        << joined;
  }
  EXPECT_EQ(local.back(), "out/runs/a");
  // The child names its run as compare does: a folder of GGUF files resolves to a file whose
  // name says nothing of the model, so the report would otherwise show "model-Q4_K_M" thrice.
  const auto name = std::find(local.begin(), local.end(), "--name");
  ASSERT_NE(name, local.end());
  EXPECT_EQ(*(name + 1), "a");
  EXPECT_EQ(std::find(remote.begin(), remote.end(), "--name"), remote.end());
  EXPECT_NE(std::find(local.begin(), local.end(), "q8"), local.end());
  EXPECT_EQ(std::find(remote.begin(), remote.end(), "q8"), remote.end());
  EXPECT_NE(std::find(remote.begin(), remote.end(), "http://h:1"), remote.end());
}

TEST(EvalModelLabel, IsTheLastPartOfTheModelAsGiven) {
  EXPECT_EQ(model_label("/m/qwen3-vl-2b-q4km/"), "qwen3-vl-2b-q4km");
  EXPECT_EQ(model_label("/m/qwen3-vl-2b-q4km"), "qwen3-vl-2b-q4km");
  EXPECT_EQ(model_label("Qwen/Qwen3-VL-2B-Instruct"), "Qwen3-VL-2B-Instruct");
  EXPECT_EQ(model_label("x/llava-next.Q4_K_M.gguf"), "llava-next.Q4_K_M");
  EXPECT_EQ(model_label("ORG/NAME-GGUF:Q8_0"), "NAME-GGUF:Q8_0");
}

TEST(EvalCompare, MalformedEntriesAreClearErrors) {
  test::expect_error([] { compare_models({}, {}); }, ErrorKind::kInvalidArgument, "at least one");
  test::expect_error([] { compare_models({}, {"http://h:1"}); }, ErrorKind::kInvalidArgument, "NAME=URL");
  test::expect_error([] { compare_models({}, {"x=ftp://h"}); }, ErrorKind::kInvalidArgument, "NAME=URL");
  test::expect_error([] { compare_models({"a.gguf,"}, {}); }, ErrorKind::kInvalidArgument, "MMPROJ");
}

}  // namespace
}  // namespace kantu::eval
