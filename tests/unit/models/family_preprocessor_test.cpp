// Each family checks its own preprocessor_config.json when its profile is built
// (models::profile_of, which Model::load and every command that preprocesses go through):
// the Qwen families' Qwen2VLImageProcessor keys over their defaults, LLaVA's
// CLIPImageProcessor / LlavaNextImageProcessor keys. ModelFolder::open only reads the JSON;
// no layer above the families knows which processor a family has.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "formats/model_folder.h"
#include "models/model.h"
#include "support/expect_error.h"
#include "support/testdata.h"

namespace kantu::models {
namespace {

struct BadPreprocessor {
  std::string model;  // shared tiny model
  std::function<void(Json&)> edit;
  ErrorKind kind;
  std::string message;
};

// A copy of tiny model `name` whose preprocessor_config.json went through `edit`.
std::string with_edited_preprocessor(const std::string& name, const std::function<void(Json&)>& edit,
                                     const std::string& hint) {
  const std::string dir = test::copy_tiny_model(name, hint);
  const std::string path = dir + "/preprocessor_config.json";
  Json json = read_json_file(path);
  edit(json);
  test::write_text_file(path, json.dump(2));
  return dir;
}

TEST(FamilyPreprocessorConfig, TheUneditedFilesOfEveryFamilyAreAccepted) {
  for (const char* name :
       {"qwen3vl-tiny-a", "qwen25vl-tiny-a", "qwen2vl-tiny-a", "llava15-tiny-a", "llava-next-tiny-a"}) {
    SCOPED_TRACE(name);
    const std::string dir = with_edited_preprocessor(name, [](Json&) {}, std::string("unedited_") + name);
    EXPECT_NO_THROW(profile_of(ModelFolder::open(dir, {.load_weights = false})));
  }
}

TEST(FamilyPreprocessorConfig, EachFamilyRejectsBadKeysOfItsProcessor) {
  using K = ErrorKind;
  const std::vector<BadPreprocessor> cases = {
      {"qwen3vl-tiny-a", [](Json& j) { j["size"].erase("longest_edge"); }, K::kCorrupt,
       "preprocessor_config.json: size must be an object with shortest_edge"},
      {"qwen3vl-tiny-a", [](Json& j) { j["size"]["shortest_edge"] = -1; }, K::kCorrupt,
       "size.shortest_edge must be a positive integer"},
      {"qwen3vl-tiny-a", [](Json& j) { j["min_pixels"] = 1 << 30; }, K::kCorrupt, "is larger than the maximum"},
      {"qwen3vl-tiny-a", [](Json& j) { j["image_std"] = {0.5, 0, 0.5}; }, K::kCorrupt, "image_std must be"},
      {"qwen3vl-tiny-a", [](Json& j) { j["image_mean"] = {0.5, 0.5}; }, K::kCorrupt, "image_mean must be"},
      {"qwen3vl-tiny-a", [](Json& j) { j["patch_size"] = "16"; }, K::kCorrupt,
       "patch_size must be a positive integer"},
      {"qwen3vl-tiny-a", [](Json& j) { j["resample"] = 9; }, K::kCorrupt, "resample"},
      {"qwen25vl-tiny-a", [](Json& j) { j["image_std"] = {0.5, 0, 0.5}; }, K::kCorrupt, "image_std must be"},
      {"qwen2vl-tiny-a", [](Json& j) { j["patch_size"] = 0; }, K::kCorrupt,
       "patch_size must be a positive integer"},
      {"llava15-tiny-a", [](Json& j) { j["crop_size"] = {{"height", 0}, {"width", 336}}; }, K::kCorrupt,
       "crop_size.height must be a positive integer"},
      {"llava15-tiny-a", [](Json& j) { j["image_mean"] = {0.5, 0.5}; }, K::kCorrupt, "image_mean must be"},
      {"llava15-tiny-a", [](Json& j) { j["resample"] = 2; }, K::kUnsupported, "resample 2 is not supported"},
      {"llava-next-tiny-a", [](Json& j) { j["image_grid_pinpoints"] = {{336, "x"}}; }, K::kCorrupt,
       "image_grid_pinpoints must be"},
      {"llava-next-tiny-a", [](Json& j) { j["crop_size"] = {{"height", 336}, {"width", 300}}; },
       K::kUnsupported, "tiles must be square"},
      // Keys that contradict the vision tower of config.json: patches it could not read.
      {"qwen3vl-tiny-a", [](Json& j) { j["patch_size"] = 14; }, K::kCorrupt,
       "patch_size 14 contradicts "},
      {"qwen3vl-tiny-a", [](Json& j) { j["patch_size"] = 14; }, K::kCorrupt,
       "config.json: vision_config.patch_size 16"},
      {"qwen3vl-tiny-a", [](Json& j) { j["temporal_patch_size"] = 1; }, K::kCorrupt,
       "temporal_patch_size 1 contradicts"},
      {"qwen25vl-tiny-a", [](Json& j) { j["merge_size"] = 1; }, K::kCorrupt,
       ": vision_config.spatial_merge_size 2"},
      {"qwen2vl-tiny-a", [](Json& j) { j["patch_size"] = 16; }, K::kCorrupt,
       ": vision_config.patch_size 14"},
      {"llava15-tiny-a", [](Json& j) { j["crop_size"] = {{"height", 224}, {"width", 224}}; }, K::kCorrupt,
       "crop_size 224x224 contradicts"},
      {"llava-next-tiny-a", [](Json& j) { j["crop_size"] = {{"height", 224}, {"width", 224}}; }, K::kCorrupt,
       ": vision_config.image_size 336"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadPreprocessor& c = cases[i];
    SCOPED_TRACE(c.model + ": " + c.message);
    const std::string dir = with_edited_preprocessor(c.model, c.edit, "bad_preprocessor_" + std::to_string(i));
    const ModelFolder folder = ModelFolder::open(dir, {.load_weights = false});  // reads, does not judge
    test::expect_error([&] { profile_of(folder); }, c.kind, dir + "/preprocessor_config.json: ");
    test::expect_error([&] { profile_of(folder); }, c.kind, c.message);
    test::expect_error([&] { Model::load(ModelFolder::open(dir)); }, c.kind, c.message);
  }
}

}  // namespace
}  // namespace kantu::models
