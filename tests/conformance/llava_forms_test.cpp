// Forms of a LLaVA checkpoint that the references load, beside the llava-hf folders and
// GGUF pairs of llava_test.cpp, must run as those do; what is not LLaVA is a clear error.
//   - config.json without model_type (top level, text_config, vision_config): transformers'
//     LlavaConfig / LlavaNextConfig load it (the model class picks the config class; the
//     text model is then Llama, the tower CLIP): identical logits and greedy ids.
//   - a text-only Llama GGUF (no mmproj, no <image> token) is not a LLaVA: refused with what
//     it is and how to pass an mmproj.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/model_folder.h"
#include "runtime/generate.h"
#include "support/expect_error.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"

namespace kantu {
namespace {

struct Answer {
  std::vector<int32_t> prompt_ids;
  std::vector<float> prompt_logits;  // [prompt, vocab]
  std::vector<int32_t> greedy;
};

// A prompt with an image (not square: NeXT cuts tiles from it) through the whole engine.
Answer answer(const std::string& model, const std::string& mmproj = "") {
  auto engine = runtime::Engine::load(model, 2, {}, mmproj);
  text::Message user;
  user.role = "user";
  text::ContentPart image;
  image.kind = text::ContentPart::Kind::kImage;
  image.image = test::testdata("images/img_288x352.png");
  text::ContentPart words;
  words.kind = text::ContentPart::Kind::kText;
  words.text = "Describe the picture.";
  user.parts = {image, words};
  runtime::GenerateRequest request;
  request.messages = {user};
  request.options.sampling.temperature = 0;
  request.options.max_new_tokens = 8;
  request.options.ignore_stop_ids = true;
  Answer a;
  request.prompt_logits = &a.prompt_logits;
  const runtime::GenerateOutput out = engine->generate(request, nullptr);
  a.prompt_ids = out.prompt_ids;
  a.greedy = out.result.ids;
  return a;
}

class LlavaWithoutModelType : public ::testing::TestWithParam<const char*> {};

TEST_P(LlavaWithoutModelType, RunsAsTheFolderWithIt) {
  const std::string name = GetParam();
  const std::string dir = test::copy_tiny_model(name, "no_model_type");
  const std::string path = dir + "/config.json";
  Json config = read_json_file(path);
  ASSERT_TRUE(config.contains("architectures"));
  config.erase("model_type");
  config["text_config"].erase("model_type");
  config["vision_config"].erase("model_type");
  test::write_text_file(path, config.dump(2));

  const ModelFolder folder = ModelFolder::open(dir, {.load_weights = false});
  EXPECT_EQ(folder.family(), name == "llava15-tiny-a" ? ModelFamily::kLlava : ModelFamily::kLlavaNext);
  const Answer want = answer(test::testdata("models/" + name));
  const Answer got = answer(dir);
  ASSERT_FALSE(want.prompt_logits.empty());
  EXPECT_EQ(got.prompt_ids, want.prompt_ids);
  EXPECT_TRUE(got.prompt_logits == want.prompt_logits);  // the same config: bit for bit
  EXPECT_EQ(got.greedy, want.greedy);
}

// "llava15-tiny-a" -> v15, "llava-next-tiny-a" -> next.
std::string variant_name(const ::testing::TestParamInfo<const char*>& param) {
  return param.param[6] == 'n' ? "next" : "v15";
}

INSTANTIATE_TEST_SUITE_P(Llava, LlavaWithoutModelType, ::testing::Values("llava15-tiny-a", "llava-next-tiny-a"),
                         variant_name);

TEST(LlavaNamedByNothing, AConfigNamingNoLlavaIsRefused) {
  const std::string dir = test::copy_tiny_model("llava15-tiny-a", "no_llava");
  Json config = read_json_file(dir + "/config.json");
  config.erase("model_type");
  config["architectures"] = {"LlamaForCausalLM"};
  test::write_text_file(dir + "/config.json", config.dump(2));
  test::expect_error([&] { runtime::Engine::load(dir, 2); }, ErrorKind::kNotFound,
                     "model_type is missing and architectures LlamaForCausalLM names no model kantu runs");
}

TEST(PlainLlamaGguf, IsRefusedWithWhatItIsAndHowToPassAnMmproj) {
  const std::string path = test::write_plain_llama_gguf(test::make_temp_dir("plain_llama"));
  for (const bool weights : {false, true}) {
    SCOPED_TRACE(weights);
    for (const std::string& part : {path + " is a text-only Llama model", std::string("no <image> token"),
                                   std::string("its vision projector (mmproj) is missing"),
                                   std::string("kantu runs vision-language models"), std::string("--mmproj")}) {
      test::expect_error([&] { ModelFolder::open_gguf(path, "", {.load_weights = weights}); },
                         ErrorKind::kUnsupported, part);
    }
  }
  test::expect_error([&] { runtime::Engine::load(path, 2); }, ErrorKind::kUnsupported, "text-only Llama model");
}

}  // namespace
}  // namespace kantu
