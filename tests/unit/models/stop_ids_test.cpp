// Where generation stops is the model's to say (Model::eos_ids): generation_config.json's
// eos list, else config.json's, else the family's own end of turn; the layers above only
// ask. Each case is a tiny model whose config files are edited (weights linked, not copied).
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "core/json.h"
#include "core/mapped_file.h"
#include "models/model.h"
#include "support/expect_error.h"
#include "support/testdata.h"

namespace kantu::models {
namespace {

namespace fs = std::filesystem;

// A copy of shared model `name` whose config.json went through `edit_config`, with or
// without its generation_config.json; the other files are symlinks.
std::string edited_model(const std::string& name, const std::function<void(Json&)>& edit_config,
                         bool keep_generation) {
  const std::string src = test::testdata("models/" + name);
  const std::string dir = test::make_temp_dir("stop_ids");
  for (const auto& entry : fs::directory_iterator(src)) {
    const std::string file = entry.path().filename().string();
    if (file == "config.json" || (file == "generation_config.json" && !keep_generation)) continue;
    fs::create_symlink(entry.path(), dir + "/" + file);
  }
  Json config = read_json_file(src + "/config.json");
  edit_config(config);
  test::write_text_file(dir + "/config.json", config.dump(1));
  return dir;
}

std::vector<int32_t> eos_of(const std::string& dir) { return Model::load(dir, {.threads = 1})->eos_ids(); }

void erase_eos(Json& c) {
  c.erase("eos_token_id");
  if (c.contains("text_config")) c["text_config"].erase("eos_token_id");
}

TEST(StopIds, GenerationConfigFirst) {
  EXPECT_EQ(eos_of(test::testdata("models/qwen3vl-tiny-a")), (std::vector<int32_t>{151645, 151643}));
  EXPECT_EQ(eos_of(test::testdata("models/llava15-tiny-a")), (std::vector<int32_t>{2}));
}

TEST(StopIds, ThenConfigJson) {
  EXPECT_EQ(eos_of(edited_model("qwen3vl-tiny-a", [](Json&) {}, false)), (std::vector<int32_t>{151645}));
  EXPECT_EQ(eos_of(edited_model("qwen2vl-tiny-a", [](Json& c) { c["eos_token_id"] = {7, 9}; }, false)),
            (std::vector<int32_t>{7, 9}));
}

TEST(StopIds, ThenTheFamilysEndOfTurn) {
  for (const char* qwen : {"qwen3vl-tiny-a", "qwen25vl-tiny-a"}) {
    EXPECT_EQ(eos_of(edited_model(qwen, erase_eos, false)), (std::vector<int32_t>{151645, 151643})) << qwen;
  }
  // LlamaConfig's default eos, "</s>".
  EXPECT_EQ(eos_of(edited_model("llava-next-tiny-a", erase_eos, false)), (std::vector<int32_t>{2}));
}

TEST(StopIds, OutsideTheVocabularyIsCorrupt) {
  test::expect_error([] { eos_of(edited_model("qwen2vl-tiny-a", [](Json& c) { c["eos_token_id"] = 1 << 30; }, false)); },
                     ErrorKind::kCorrupt, "outside the vocabulary");
}

}  // namespace
}  // namespace kantu::models
