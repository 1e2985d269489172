// Which files a pull fetches: kantu's needs for a folder model, llama.cpp's -hf rule for a
// GGUF repo (tag, default Q4_K_M then Q8_0, the nearest mmproj), --include globs, errors.
#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/file_select.h"
#include "hub/model_ref.h"

namespace kantu::hub {
namespace {

using Files = std::vector<std::string>;

IndexReader no_index() {
  return [](const std::string& p) -> std::vector<std::string> { throw Error(ErrorKind::kInternal, "read " + p); };
}

TEST(ModelRef, NamesAndPaths) {
  auto r = parse_model_ref("Qwen/Qwen3-VL-2B-Instruct");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo, "Qwen/Qwen3-VL-2B-Instruct");
  EXPECT_EQ(r->tag, "");
  r = parse_model_ref("Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->repo, "Qwen/Qwen3-VL-2B-Instruct-GGUF");
  EXPECT_EQ(r->tag, "Q4_K_M");
  EXPECT_EQ(r->str(), "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q4_K_M");
  for (const char* not_a_name : {"Qwen3-VL-2B-Instruct", "/models/x", "./a/b", "../a/b", "a/b/c", "a/b.gguf",
                                 "models/model.safetensors", "a/", "/b", "a/b:", "a/b:Q4 K", "a--b/c", "a/.b",
                                 "-a/b", "a/b:x/y", "~/x"})
    EXPECT_FALSE(parse_model_ref(not_a_name)) << not_a_name;
  EXPECT_THROW(parse_model_ref_or_fail("not a name"), Error);
}

TEST(FileSelect, FolderModelTakesWhatKantuNeeds) {
  const Files files = {".gitattributes", "README.md", "config.json", "generation_config.json",
                       "preprocessor_config.json", "video_preprocessor_config.json", "chat_template.json",
                       "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt",
                       "model.safetensors", "onnx/model.safetensors", "pytorch_model.bin", "images/demo.png"};
  const Selection s = select_files("Qwen/X", files, "", {}, no_index());
  EXPECT_FALSE(s.gguf);
  EXPECT_EQ(s.files, (Files{"chat_template.json", "config.json", "generation_config.json", "merges.txt",
                            "model.safetensors", "preprocessor_config.json", "tokenizer.json",
                            "tokenizer_config.json", "video_preprocessor_config.json", "vocab.json"}));
}

TEST(FileSelect, ShardsComeFromTheIndex) {
  const Files files = {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                       "model-00002-of-00002.safetensors", "consolidated.safetensors"};
  std::string asked;
  const Selection s = select_files("a/b", files, "", {}, [&](const std::string& index) {
    asked = index;
    return parse_safetensors_index(
        R"({"metadata":{},"weight_map":{"x":"model-00001-of-00002.safetensors","y":"model-00002-of-00002.safetensors","z":"model-00001-of-00002.safetensors"}})",
        index);
  });
  EXPECT_EQ(asked, "model.safetensors.index.json");
  EXPECT_EQ(s.files, (Files{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                            "model.safetensors.index.json"}));
  // An index naming a shard the repo lacks is a clear error.
  EXPECT_THROW(select_files("a/b", {"config.json", "model.safetensors.index.json", "a.safetensors"}, "", {},
                            [](const std::string& i) { return parse_safetensors_index(R"({"weight_map":{"x":"b.safetensors"}})", i); }),
               Error);
  EXPECT_THROW(parse_safetensors_index("{not json", "i.json"), Error);
  EXPECT_THROW(parse_safetensors_index(R"({"weight_map":[]})", "i.json"), Error);
}

const Files kGgufRepo = {"README.md",
                         "Qwen3-VL-2B-Instruct-BF16.gguf",
                         "Qwen3-VL-2B-Instruct-Q4_K_M.gguf",
                         "Qwen3-VL-2B-Instruct-Q8_0.gguf",
                         "mmproj-Qwen3-VL-2B-Instruct-F16.gguf",
                         "mmproj-Qwen3-VL-2B-Instruct-Q8_0.gguf",
                         "imatrix.gguf"};

TEST(FileSelect, GgufTagPicksTheModelAndTheClosestMmproj) {
  Selection s = select_files("Qwen/Qwen3-VL-2B-Instruct-GGUF", kGgufRepo, "Q8_0", {}, no_index());
  EXPECT_TRUE(s.gguf);
  EXPECT_EQ(s.model_file, "Qwen3-VL-2B-Instruct-Q8_0.gguf");
  EXPECT_EQ(s.mmproj_file, "mmproj-Qwen3-VL-2B-Instruct-Q8_0.gguf");  // 8 bits, like the model
  EXPECT_EQ(s.files.size(), 2u);
  s = select_files("Qwen/Qwen3-VL-2B-Instruct-GGUF", kGgufRepo, "bf16", {}, no_index());  // any case
  EXPECT_EQ(s.model_file, "Qwen3-VL-2B-Instruct-BF16.gguf");
  EXPECT_EQ(s.mmproj_file, "mmproj-Qwen3-VL-2B-Instruct-F16.gguf");  // 16 bits
  // No tag: Q4_K_M first, as llama.cpp.
  s = select_files("Qwen/Qwen3-VL-2B-Instruct-GGUF", kGgufRepo, "", {}, no_index());
  EXPECT_EQ(s.model_file, "Qwen3-VL-2B-Instruct-Q4_K_M.gguf");
  // An unknown tag names what there is.
  try {
    select_files("Qwen/Qwen3-VL-2B-Instruct-GGUF", kGgufRepo, "Q5_K_S", {}, no_index());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("Qwen3-VL-2B-Instruct-Q8_0.gguf"), std::string::npos) << e.what();
  }
}

TEST(FileSelect, GgufInFoldersAndSplits) {
  const Files files = {"Q8_0/model-Q8_0.gguf", "Q4_K_M/model-Q4_K_M-00001-of-00002.gguf",
                       "Q4_K_M/model-Q4_K_M-00002-of-00002.gguf", "mmproj-model-f16.gguf",
                       "Q8_0/mmproj-model-Q8_0.gguf", "other/mmproj-model-Q8_0.gguf"};
  Selection s = select_files("a/b-GGUF", files, "Q8_0", {}, no_index());
  EXPECT_EQ(s.model_file, "Q8_0/model-Q8_0.gguf");
  EXPECT_EQ(s.mmproj_file, "Q8_0/mmproj-model-Q8_0.gguf");  // the model's own folder first
  try {
    select_files("a/b-GGUF", files, "Q4_K_M", {}, no_index());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("split"), std::string::npos) << e.what();
  }
  EXPECT_EQ(gguf_file_tag("x/Qwen3-VL-2B-Instruct-Q4_K_M.gguf"), "Q4_K_M");
  EXPECT_EQ(gguf_file_tag("model.bf16-00001-of-00003.gguf"), "BF16");
  EXPECT_EQ(gguf_file_tag("model.gguf"), "");
}

TEST(FileSelect, IncludeGlobsAndErrors) {
  const Files files = {"config.json", "model.safetensors", "docs/a.md", "docs/sub/b.md", "README.md"};
  Selection s = select_files("a/b", files, "", {"*.md"}, no_index());
  EXPECT_EQ(s.files, (Files{"README.md", "docs/a.md", "docs/sub/b.md"}));  // * crosses /
  s = select_files("a/b", files, "", {"docs/"}, no_index());
  EXPECT_EQ(s.files, (Files{"docs/a.md", "docs/sub/b.md"}));
  EXPECT_THROW(select_files("a/b", files, "", {"*.bin"}, no_index()), Error);
  EXPECT_THROW(select_files("a/b", files, "Q8_0", {"*.md"}, no_index()), Error);
  try {
    select_files("a/b", {"README.md", "pytorch_model.bin"}, "", {}, no_index());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
  }
  EXPECT_THROW(select_files("a/b", {"model.safetensors"}, "", {}, no_index()), Error);  // no config.json
}

}  // namespace
}  // namespace kantu::hub
