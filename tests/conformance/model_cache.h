// The tiny models, loaded once per test binary (loading maps the weights; sharing them
// keeps the conformance run to seconds), and the test images through kantu's own
// decoder and HF-exact preprocessing (the image layer's goldens check that part).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conformance/golden.h"
#include "formats/model_folder.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "models/model.h"

namespace kantu::test {

// A model as golden_path names it ("tiny-a", "qwen25vl/tiny-a"); two compute threads (the CI machine has two cores).
inline models::Model& cached_model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<models::Model>> cache;
  auto& slot = cache[name];
  if (!slot) slot = models::Model::load(model_path(name), {.threads = 2});
  return *slot;
}

struct TestImage {
  std::vector<float> pixel_values;  // [patches, 1536]
  models::GridTHW grid;
};

// A golden's image entry: "model_sq_224x224.png" or "images/img_256x256.png", both
// relative to the shared images/ folder, preprocessed as `model`'s family does it
// (Qwen3-VL's processor when no model is named).
inline TestImage preprocess_test_image(const std::string& entry, const std::string& model = "") {
  RgbImage rgb = decode_image_file(test_image_path(entry));
  const ImagePreprocessConfig config =
      model.empty() ? ImagePreprocessConfig{}
                    : models::profile_of(ModelFolder::open(model_path(model), {.load_weights = false}))
                          .image;
  PreprocessedImage p = preprocess_image(rgb, config);
  return {std::move(p.pixel_values), {p.grid.t, p.grid.h, p.grid.w}};
}

// The images a golden's metadata names ("images"; none when it has no such entry), each
// through preprocess_test_image.
inline std::vector<TestImage> golden_images(const Json& meta, const std::string& model = "") {
  std::vector<TestImage> images;
  if (!meta.contains("images")) return images;
  for (const auto& entry : meta.at("images")) {
    images.push_back(preprocess_test_image(entry.get<std::string>(), model));
  }
  return images;
}

}  // namespace kantu::test
