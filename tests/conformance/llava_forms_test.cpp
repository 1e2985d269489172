// Forms of a LLaVA checkpoint that the references load, beside the llava-hf folders and
// GGUF pairs of llava_test.cpp, must run as those do; what is not LLaVA is a clear error.
//   - config.json without model_type (top level, text_config, vision_config): transformers'
//     LlavaConfig / LlavaNextConfig load it (the model class picks the config class; the
//     text model is then Llama, the tower CLIP): identical logits and greedy ids.
//   - an mmproj whose CLIP MLP names are not swapped (fc1 = ffn_up) loads the same tensors
//     as the legacy converter's (fc1 = ffn_down): identical logits.
//   - a text-only Llama GGUF (no mmproj, no <image> token) is not a LLaVA: refused with what
//     it is and how to pass an mmproj.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/gguf.h"
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

// llama.cpp's legacy LLaVA converter names CLIP's fc1 ffn_down and fc2 ffn_up; an mmproj
// named the other way round (fc1 = ffn_up) is told apart by shape, as llama.cpp does
// (fc1's input is the tower's width): the same tensors under the same Hugging Face names,
// so the same logits, bit for bit.
class LlavaMmprojMlpNames : public ::testing::TestWithParam<const char*> {};

TEST_P(LlavaMmprojMlpNames, UnswappedNamesLoadAsTheSwappedOnes) {
  const std::string folder = test::testdata(std::string("models/") + GetParam());
  const test::GgufPair legacy = test::write_llava_gguf_pair(folder, test::make_temp_dir("mlp_legacy"), DType::kF16);
  const test::GgufPair plain =
      test::write_llava_gguf_pair(folder, test::make_temp_dir("mlp_plain"), DType::kF16, {}, false);

  // The two files differ in the names: fc1 [intermediate, width] is ffn_down in one, ffn_up
  // in the other.
  const int64_t width = read_json_file(folder + "/config.json").at("vision_config").at("hidden_size").get<int64_t>();
  const GgufFile legacy_file = GgufFile::open(legacy.mmproj), plain_file = GgufFile::open(plain.mmproj);
  ASSERT_NE(legacy_file.tensor("v.blk.0.ffn_down.weight").shape[0], width);
  EXPECT_EQ(legacy_file.tensor("v.blk.0.ffn_down.weight").shape[1], width);
  EXPECT_EQ(plain_file.tensor("v.blk.0.ffn_up.weight").shape, legacy_file.tensor("v.blk.0.ffn_down.weight").shape);
  EXPECT_EQ(plain_file.tensor("v.blk.0.ffn_down.bias").shape, legacy_file.tensor("v.blk.0.ffn_up.bias").shape);

  const ModelFolder a = ModelFolder::open_gguf(legacy.model, legacy.mmproj, {});
  const ModelFolder b = ModelFolder::open_gguf(legacy.model, plain.mmproj, {});
  ASSERT_EQ(a.weights().tensors().size(), b.weights().tensors().size());
  int mlp = 0;
  for (const auto& [name, view] : a.weights().tensors()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(b.weights().has(name));
    const TensorView& other = b.weights().get(name);
    ASSERT_EQ(other.dtype, view->dtype);
    ASSERT_EQ(other.shape, view->shape);
    ASSERT_EQ(other.nbytes, view->nbytes);
    EXPECT_EQ(std::memcmp(other.data, view->data, view->nbytes), 0);
    mlp += name.find(".mlp.fc") != std::string::npos && name.find("vision_tower") != std::string::npos;
  }
  EXPECT_GE(mlp, 4);  // fc1 and fc2, weight and bias, of every block

  const Answer want = answer(legacy.model, legacy.mmproj);
  const Answer got = answer(legacy.model, plain.mmproj);
  ASSERT_FALSE(want.prompt_logits.empty());
  EXPECT_EQ(got.prompt_ids, want.prompt_ids);
  EXPECT_TRUE(got.prompt_logits == want.prompt_logits);
  EXPECT_EQ(got.greedy, want.greedy);
}

INSTANTIATE_TEST_SUITE_P(Llava, LlavaMmprojMlpNames, ::testing::Values("llava15-tiny-a", "llava-next-tiny-a"),
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
