#include "formats/model_folder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "folder_fixture.h"
#include "formats/model_summary.h"
#include "formats/safetensors.h"
#include "support/testdata.h"

namespace kantu {
namespace {

namespace fs = std::filesystem;

// Distinct values of the number after `prefix` in tensor names ("...layers.3.mlp" -> 3).
std::set<int> numbered(const WeightStore& weights, const std::string& prefix) {
  std::set<int> out;
  for (const auto& [name, view] : weights.tensors()) {
    if (name.rfind(prefix, 0) == 0) out.insert(std::stoi(name.substr(prefix.size())));
  }
  return out;
}

class TinyModels : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyModels, OpensWithTypedConfigs) {
  const std::string dir = test::testdata(std::string("models/") + GetParam());
  const ModelFolder m = ModelFolder::open(dir);
  const Json config = test::read_json(dir + "/config.json");
  EXPECT_EQ(m.family(), ModelFamily::kQwen3VL);
  EXPECT_EQ(m.model_type(), config["model_type"]);
  EXPECT_EQ(m.architecture(), config["architectures"][0]);
  EXPECT_EQ(m.config(), config);
  EXPECT_EQ(m.config_path(), dir + "/config.json");

  const Json gen = test::read_json(dir + "/generation_config.json");
  EXPECT_TRUE(m.generation().present);
  EXPECT_EQ(m.generation().eos_token_ids, gen["eos_token_id"].get<std::vector<int64_t>>());
  EXPECT_EQ(m.generation().bos_token_id, gen["bos_token_id"].get<int64_t>());
  EXPECT_EQ(m.generation().pad_token_id, gen["pad_token_id"].get<int64_t>());
  EXPECT_EQ(m.generation().do_sample, gen["do_sample"].get<bool>());
  EXPECT_EQ(m.generation().top_k, gen["top_k"].get<int64_t>());
  EXPECT_DOUBLE_EQ(m.generation().top_p, gen["top_p"].get<double>());
  EXPECT_DOUBLE_EQ(m.generation().temperature, gen["temperature"].get<double>());
  EXPECT_DOUBLE_EQ(m.generation().repetition_penalty, gen["repetition_penalty"].get<double>());

  const Json pre = test::read_json(dir + "/preprocessor_config.json");
  EXPECT_EQ(m.preprocessor_json(), pre);
  const PreprocessorConfig p = parse_preprocessor_config(m.preprocessor_json(), m.preprocessor_path());
  EXPECT_TRUE(p.present);
  EXPECT_EQ(p.min_pixels, pre["size"]["shortest_edge"].get<int64_t>());
  EXPECT_EQ(p.max_pixels, pre["size"]["longest_edge"].get<int64_t>());
  EXPECT_EQ(p.patch_size, pre["patch_size"].get<int64_t>());
  EXPECT_EQ(p.merge_size, pre["merge_size"].get<int64_t>());
  EXPECT_EQ(p.temporal_patch_size, pre["temporal_patch_size"].get<int64_t>());
  for (int c = 0; c < 3; ++c) {
    EXPECT_FLOAT_EQ(p.image_mean[c], pre["image_mean"][c].get<float>());
    EXPECT_FLOAT_EQ(p.image_std[c], pre["image_std"][c].get<float>());
  }
  EXPECT_FLOAT_EQ(static_cast<float>(p.rescale_factor), 1.0f / 255.0f);
  EXPECT_EQ(p.resample, 3);
  const Json video = test::read_json(dir + "/video_preprocessor_config.json");
  EXPECT_EQ(m.video_preprocessor().frames.min_pixels, video["size"]["shortest_edge"].get<int64_t>());
  EXPECT_EQ(m.video_preprocessor().frames.max_pixels, video["size"]["longest_edge"].get<int64_t>());

  const TokenizerFiles& t = m.tokenizer_files();
  EXPECT_EQ(t.vocab_json, dir + "/vocab.json");
  EXPECT_EQ(t.merges_txt, dir + "/merges.txt");
  EXPECT_EQ(t.tokenizer_config_json, dir + "/tokenizer_config.json");
  EXPECT_EQ(t.chat_template_json, dir + "/chat_template.json");
  EXPECT_EQ(t.tokenizer_json.empty(), !fs::exists(dir + "/tokenizer.json"));
  EXPECT_TRUE(t.has_vocabulary());
  EXPECT_TRUE(t.chat_template_jinja.empty());
  ASSERT_TRUE(m.has_weights());
  EXPECT_EQ(m.weights().files(), std::vector<std::string>{dir + "/model.safetensors"});
}

TEST_P(TinyModels, SizesAgreeWithTheWeights) {
  const ModelFolder m = ModelFolder::open(test::testdata(std::string("models/") + GetParam()));
  const TextSizes t = read_text_sizes(m);
  const auto v = read_vision_sizes(m);
  ASSERT_TRUE(v.has_value());
  const WeightStore& w = m.weights();
  EXPECT_EQ(w.get("model.language_model.embed_tokens.weight").shape,
            (std::vector<int64_t>{t.vocab_size, t.hidden_size}));
  EXPECT_EQ(w.get("model.language_model.layers.0.self_attn.q_proj.weight").shape,
            (std::vector<int64_t>{t.num_heads * t.head_dim, t.hidden_size}));
  EXPECT_EQ(w.get("model.language_model.layers.0.self_attn.k_proj.weight").shape,
            (std::vector<int64_t>{t.num_kv_heads * t.head_dim, t.hidden_size}));
  EXPECT_EQ(w.get("model.language_model.layers.0.mlp.up_proj.weight").shape,
            (std::vector<int64_t>{t.intermediate_size, t.hidden_size}));
  EXPECT_EQ(numbered(w, "model.language_model.layers.").size(), static_cast<size_t>(t.num_layers));
  EXPECT_EQ(numbered(w, "model.visual.blocks.").size(), static_cast<size_t>(v->depth));
  EXPECT_EQ(numbered(w, "model.visual.deepstack_merger_list.").size(),
            v->deepstack_visual_indexes.size());
  EXPECT_EQ(w.get("model.visual.pos_embed.weight").shape,
            (std::vector<int64_t>{v->num_position_embeddings, v->hidden_size}));
  EXPECT_EQ(t.tie_word_embeddings, !w.has("lm_head.weight"));

  const WeightStats s = weight_stats(w);
  EXPECT_EQ(s.tensor_count, static_cast<int64_t>(w.tensors().size()));
  EXPECT_EQ(s.files.size(), 1u);
  EXPECT_EQ(s.files[0].tensors, s.tensor_count);
  ASSERT_EQ(s.dtypes.count("BF16"), 1u);
  EXPECT_EQ(s.total_bytes, static_cast<uint64_t>(s.parameter_count) * 2);
  EXPECT_GT(s.files[0].file_bytes, s.total_bytes);
}

INSTANTIATE_TEST_SUITE_P(Formats, TinyModels, ::testing::Values("qwen3vl-tiny-a", "qwen3vl-tiny-c"));

TEST(ModelFolder, TinyASizesMatchItsGenerationSpec) {
  // GENERATION_INFO.json records the spec the tiny model was generated from.
  const std::string dir = test::testdata("models/qwen3vl-tiny-a");
  const Json spec = test::read_json(dir + "/GENERATION_INFO.json")["spec"];
  const ModelFolder m = ModelFolder::open(dir, {.load_weights = false});
  const TextSizes t = read_text_sizes(m);
  EXPECT_EQ(t.hidden_size, spec["text"]["hidden_size"].get<int64_t>());
  EXPECT_EQ(t.num_layers, spec["text"]["num_hidden_layers"].get<int64_t>());
  EXPECT_EQ(t.num_heads, spec["text"]["num_attention_heads"].get<int64_t>());
  EXPECT_EQ(t.num_kv_heads, spec["text"]["num_key_value_heads"].get<int64_t>());
  EXPECT_EQ(t.head_dim, spec["text"]["head_dim"].get<int64_t>());
  EXPECT_EQ(t.tie_word_embeddings, spec["text"]["tie"].get<bool>());
  const auto v = read_vision_sizes(m);
  EXPECT_EQ(v->depth, spec["vision"]["depth"].get<int64_t>());
  EXPECT_EQ(v->deepstack_visual_indexes,
            spec["vision"]["deepstack_visual_indexes"].get<std::vector<int64_t>>());
  EXPECT_EQ(v->out_hidden_size, spec["vision"]["out_hidden_size"].get<int64_t>());
}

TEST(ModelFolder, ConfigsOnlySkipsTheWeights) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "configs_only");
  fs::remove(dir + "/model.safetensors");
  const ModelFolder m = ModelFolder::open(dir + "/", {.load_weights = false});
  EXPECT_EQ(m.dir(), dir);
  EXPECT_FALSE(m.has_weights());
  test::expect_error([&] { m.weights(); }, ErrorKind::kInternal, {"without weights"});
  test::expect_error([&] { ModelFolder::open(dir); }, ErrorKind::kNotFound, {"no model.safetensors"});
}

TEST(ModelFolder, DefaultsWhenOptionalFilesAreAbsent) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "defaults");
  const Json config = test::read_json(dir + "/config.json");
  for (const char* f : {"generation_config.json", "preprocessor_config.json",
                        "video_preprocessor_config.json", "chat_template.json", "merges.txt"}) {
    fs::remove(dir + "/" + f);
  }
  const ModelFolder m = ModelFolder::open(dir, {.load_weights = false});
  EXPECT_FALSE(m.generation().present);
  // The stop id falls back to config.json (text_config.eos_token_id), as transformers does.
  EXPECT_EQ(m.generation().eos_token_ids,
            std::vector<int64_t>{config["text_config"]["eos_token_id"].get<int64_t>()});
  EXPECT_FALSE(m.generation().do_sample);
  EXPECT_EQ(m.generation().top_k, 50);
  EXPECT_TRUE(m.preprocessor_json().is_null());
  EXPECT_EQ(m.video_preprocessor().frames.min_pixels, 4096);
  EXPECT_TRUE(m.tokenizer_files().chat_template_json.empty());
  EXPECT_TRUE(m.tokenizer_files().merges_txt.empty());
  EXPECT_FALSE(m.tokenizer_files().has_vocabulary());
}

TEST(ModelFolder, PreprocessorKeysOverrideAndBroadcast) {
  const Json p = {{"size", {{"shortest_edge", 100}, {"longest_edge", 1000}}},
                  {"min_pixels", 200},
                  {"image_mean", 0.25},
                  {"image_std", {0.1, 0.2, 0.3}},
                  {"rescale_factor", 0.5}};
  const PreprocessorConfig c = parse_preprocessor_config(p, "pre.json");
  EXPECT_EQ(c.min_pixels, 200);
  EXPECT_EQ(c.max_pixels, 1000);
  EXPECT_EQ(c.image_mean, (std::array<float, 3>{0.25f, 0.25f, 0.25f}));
  EXPECT_EQ(c.image_std, (std::array<float, 3>{0.1f, 0.2f, 0.3f}));
  EXPECT_DOUBLE_EQ(c.rescale_factor, 0.5);
}

// Writes `edit(json)` over `file` in a fresh copy of tiny-a and expects opening (and, for
// config sizes, summarizing) to fail with `kind` and the fragments.
template <typename Edit>
void expect_edit_fails(const std::string& file, Edit edit, ErrorKind kind,
                       std::initializer_list<std::string> fragments) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "edit");
  Json json = test::read_json(dir + "/" + file);
  edit(json);
  test::write_json(dir + "/" + file, json);
  test::expect_error(
      [&] {
        const ModelFolder m = ModelFolder::open(dir);
        read_text_sizes(m);
        read_vision_sizes(m);
      },
      kind, fragments);
}

TEST(ModelFolder, RejectsBadConfigJson) {
  using K = ErrorKind;
  expect_edit_fails("config.json", [](Json& j) { j["model_type"] = "llama"; }, K::kUnsupported,
                    {"config.json: unsupported model type llama"});
  expect_edit_fails("config.json", [](Json& j) { j.erase("model_type"); j.erase("architectures"); },
                    K::kNotFound, {"config.json: model_type is missing and no architectures"});
  expect_edit_fails("config.json", [](Json& j) { j["model_type"] = 3; }, K::kCorrupt,
                    {"model_type must be a string"});
  expect_edit_fails("config.json", [](Json& j) { j["architectures"] = "Qwen"; }, K::kCorrupt,
                    {"architectures must be a list of strings"});
  expect_edit_fails("config.json", [](Json& j) { j["text_config"]["hidden_size"] = "64"; },
                    K::kCorrupt, {"config.json: text_config.hidden_size must be a positive integer"});
  expect_edit_fails("config.json", [](Json& j) { j["text_config"]["num_hidden_layers"] = 0; },
                    K::kCorrupt, {"text_config.num_hidden_layers must be a positive integer"});
  expect_edit_fails("config.json", [](Json& j) { j["text_config"]["num_key_value_heads"] = 3; },
                    K::kCorrupt, {"text_config.num_key_value_heads must be a divisor"});
  expect_edit_fails("config.json", [](Json& j) { j["text_config"].erase("vocab_size"); },
                    K::kNotFound, {"config.json: text_config.vocab_size is missing"});
  expect_edit_fails("config.json", [](Json& j) { j["text_config"] = 5; }, K::kCorrupt,
                    {"text_config must be an object"});
  expect_edit_fails("config.json", [](Json& j) { j.erase("vision_config"); }, K::kNotFound,
                    {"vision_config is missing"});
  expect_edit_fails("config.json", [](Json& j) { j["vision_config"]["depth"] = 2.5; }, K::kCorrupt,
                    {"vision_config.depth must be a positive integer"});
  expect_edit_fails("config.json",
                    [](Json& j) { j["vision_config"]["deepstack_visual_indexes"] = {1, 9}; },
                    K::kCorrupt, {"vision_config.deepstack_visual_indexes must be block indexes"});
  expect_edit_fails("config.json", [](Json& j) { j["tie_word_embeddings"] = "yes"; }, K::kCorrupt,
                    {"tie_word_embeddings must be true or false"});
  expect_edit_fails("config.json", [](Json& j) { j = Json::array(); }, K::kCorrupt,
                    {"config.json: the top level must be a JSON object"});
}

TEST(ModelFolder, RejectsBadGenerationConfig) {
  using K = ErrorKind;
  const std::string f = "generation_config.json";
  expect_edit_fails(f, [](Json& j) { j["temperature"] = "hot"; }, K::kCorrupt,
                    {"generation_config.json: temperature must be a finite number"});
  expect_edit_fails(f, [](Json& j) { j["temperature"] = -1; }, K::kCorrupt, {"temperature"});
  expect_edit_fails(f, [](Json& j) { j["top_p"] = 2; }, K::kCorrupt, {"top_p must be"});
  expect_edit_fails(f, [](Json& j) { j["top_k"] = -5; }, K::kCorrupt, {"top_k must be"});
  expect_edit_fails(f, [](Json& j) { j["eos_token_id"] = {1, "2"}; }, K::kCorrupt,
                    {"eos_token_id must be"});
  expect_edit_fails(f, [](Json& j) { j["do_sample"] = 1; }, K::kCorrupt, {"do_sample must be"});
  expect_edit_fails(f, [](Json& j) { j["max_new_tokens"] = 0; }, K::kCorrupt, {"max_new_tokens"});
  expect_edit_fails(f, [](Json& j) { j["repetition_penalty"] = 0; }, K::kCorrupt,
                    {"repetition_penalty must be a positive number"});
}

// preprocessor_config.json's keys are the family's to check (models/ profile_of:
// tests/unit/models/family_preprocessor_test.cpp); the video settings are read here.
TEST(ModelFolder, RejectsBadVideoPreprocessorConfig) {
  expect_edit_fails("video_preprocessor_config.json", [](Json& j) { j["fps"] = 0; }, ErrorKind::kCorrupt,
                    {"video_preprocessor_config.json: fps must be a positive number"});
}

TEST(ModelFolder, RejectsMissingAndMalformedFiles) {
  test::expect_error([] { ModelFolder::open("/nonexistent/kantu/model"); }, ErrorKind::kNotFound,
                     {"/nonexistent/kantu/model", "no such model folder"});
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "malformed");
  test::expect_error([&] { ModelFolder::open(dir + "/config.json"); }, ErrorKind::kNotFound,
                     {"no such model folder"});
  for (const char* file : {"generation_config.json", "preprocessor_config.json",
                           "video_preprocessor_config.json", "config.json"}) {
    SCOPED_TRACE(file);
    const std::string path = dir + "/" + file;
    const std::string good = read_file(path);
    test::write_text_file(path, good.substr(0, good.size() / 2));
    test::expect_error([&] { ModelFolder::open(dir, {.load_weights = false}); }, ErrorKind::kCorrupt,
                       {path, "invalid JSON"});
    test::write_text_file(path, good);
  }
  fs::remove(dir + "/config.json");
  test::expect_error([&] { ModelFolder::open(dir); }, ErrorKind::kNotFound,
                     {dir + "/config.json", "missing"});
}

TEST(ModelFolder, RejectsWeightsOfOtherDtypes) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "dtype");
  fs::remove(dir + "/model.safetensors");
  std::vector<int64_t> ids = {1, 2};
  write_safetensors(dir + "/model.safetensors", {{"position_ids", DType::kI64, {2}, ids.data()}});
  test::expect_error([&] { ModelFolder::open(dir); }, ErrorKind::kUnsupported,
                     {"model.safetensors", "'position_ids'", "I64"});
}

TEST(ModelFolder, FamilyRegistry) {
  EXPECT_EQ(model_family_from_config({{"model_type", "qwen3_vl"}}, "c"), ModelFamily::kQwen3VL);
  EXPECT_STREQ(model_family_name(ModelFamily::kQwen3VL), "qwen3_vl");
  EXPECT_EQ(model_family_from_config({{"model_type", "qwen2_5_vl"}}, "c"), ModelFamily::kQwen25VL);
  EXPECT_EQ(model_family_from_config({{"model_type", "qwen2_vl"}}, "c"), ModelFamily::kQwen2VL);
  EXPECT_EQ(model_family_from_config({{"model_type", "llava_next"}}, "c"), ModelFamily::kLlavaNext);
  EXPECT_EQ(supported_model_types(),
            (std::vector<std::string>{"qwen3_vl", "qwen2_5_vl", "qwen2_vl", "llava", "llava_next"}));
  test::expect_error([] { model_family_from_config({{"model_type", "mllama"}}, "c"); },
                     ErrorKind::kUnsupported, {"unsupported model type mllama"});
}

TEST(ModelFolder, FamilyFromArchitecturesWithoutModelType) {
  const Json next = {{"architectures", {"LlavaNextForConditionalGeneration"}}};
  EXPECT_EQ(model_family_from_config(next, "c"), ModelFamily::kLlavaNext);
  const Json qwen25 = {{"architectures", {"SomethingElse", "Qwen2_5_VLForConditionalGeneration"}}};
  EXPECT_EQ(model_family_from_config(qwen25, "c"), ModelFamily::kQwen25VL);
  EXPECT_STREQ(model_family_architecture(ModelFamily::kLlava), "LlavaForConditionalGeneration");
  // model_type decides when present (it picks the configuration class).
  const Json both = {{"model_type", "qwen2_vl"}, {"architectures", {"LlavaForConditionalGeneration"}}};
  EXPECT_EQ(model_family_from_config(both, "c"), ModelFamily::kQwen2VL);
  // Neither known: the error names what was found and what kantu runs.
  test::expect_error([] { model_family_from_config({{"architectures", {"MllamaForConditionalGeneration"}}}, "c"); },
                     ErrorKind::kNotFound,
                     {"c: model_type is missing", "architectures MllamaForConditionalGeneration",
                      "qwen2_5_vl (Qwen2_5_VLForConditionalGeneration)", "llava_next (LlavaNextForConditionalGeneration)"});
  test::expect_error([] { model_family_from_config({{"model_type", "llama"}, {"architectures", {"LlavaForConditionalGeneration"}}}, "c"); },
                     ErrorKind::kUnsupported, {"unsupported model type llama", "qwen3_vl (Qwen3VLForConditionalGeneration)"});
}

TEST(ModelFolder, OpensAFolderWhoseConfigHasOnlyArchitectures) {
  const std::string dir = test::copy_tiny_model("qwen3vl-tiny-a", "no_model_type");
  Json config = test::read_json(dir + "/config.json");
  config.erase("model_type");
  test::write_json(dir + "/config.json", config);
  const ModelFolder m = ModelFolder::open(dir);
  EXPECT_EQ(m.family(), ModelFamily::kQwen3VL);
  EXPECT_EQ(m.model_type(), "qwen3_vl");
  EXPECT_EQ(m.architecture(), "Qwen3VLForConditionalGeneration");
}

}  // namespace
}  // namespace kantu
