// Helpers for comparing kantu's tensors with the reference goldens (float32 dumps of
// transformers 4.57.6 in fp32 over the exact BF16 weights).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/tensor.h"
#include "formats/safetensors.h"
#include "models/model.h"
#include "support/testdata.h"

namespace kantu::test {

// Goldens for one model: "tiny-a" or "tiny-c" (Qwen3-VL), or "<family>/<model>" of
// another family, e.g. "qwen25vl/tiny-a" (goldens/qwen25vl/tiny-a, models/qwen25vl-tiny-a).
inline std::string golden_path(const std::string& model, const std::string& rel) {
  const size_t slash = model.find('/');
  if (slash == std::string::npos) return testdata("goldens/qwen3vl/" + model + "/" + rel);
  return testdata("goldens/" + model + "/" + rel);
}
inline std::string model_path(const std::string& model) {
  const size_t slash = model.find('/');
  if (slash == std::string::npos) return testdata("models/qwen3vl-" + model);
  return testdata("models/" + model.substr(0, slash) + "-" + model.substr(slash + 1));
}

// A golden's image entry ("model_sq_224x224.png" or "images/img_256x256.png", both
// relative to the shared images/ folder) as a path.
inline std::string test_image_path(const std::string& entry) {
  return testdata(entry.rfind("images/", 0) == 0 ? entry : "images/" + entry);
}

inline std::vector<int64_t> to_i64(const TensorView& t) {
  EXPECT_EQ(t.dtype, DType::kI64) << t.name;
  const auto* p = t.as<int64_t>();
  return std::vector<int64_t>(p, p + t.numel());
}

// Error of `got` against `want` (both [rows, cols]) as the largest |got - want| in a row
// divided by that row's largest |want| (with a floor of 1e-6), over all rows. This is
// the metric the logits criterion (<= 1e-4 in f32 mode) is stated in.
inline double max_row_relative_error(const float* got, const float* want, int64_t rows,
                                     int64_t cols) {
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double row_max = 1e-6, diff = 0;
    for (int64_t c = 0; c < cols; ++c) {
      row_max = std::max(row_max, std::fabs(double(want[r * cols + c])));
      diff = std::max(diff, std::fabs(double(got[r * cols + c]) - double(want[r * cols + c])));
    }
    worst = std::max(worst, diff / row_max);
  }
  return worst;
}

// Compares a float tensor with a golden one: shape must match and the row-relative error
// (see max_row_relative_error) must be <= tol.
inline void expect_close(const std::string& what, const std::vector<int64_t>& shape,
                         const std::vector<float>& got, const TensorView& want, double tol) {
  ASSERT_EQ(want.dtype, DType::kF32) << what;
  int64_t rows = want.shape.empty() ? 1 : want.shape[0];
  int64_t cols = want.numel() / std::max<int64_t>(rows, 1);
  // Goldens of [1, L, ...] (batch dim) compare as [L, ...].
  std::vector<int64_t> want_shape = want.shape;
  if (want_shape.size() == 3 && want_shape[0] == 1) want_shape.erase(want_shape.begin());
  ASSERT_EQ(shape, want_shape) << what << ": shape " << shape_string(shape) << " vs golden "
                               << shape_string(want.shape);
  ASSERT_EQ(static_cast<int64_t>(got.size()), want.numel()) << what;
  rows = shape[0];
  cols = want.numel() / rows;
  const double err = max_row_relative_error(got.data(), want.as<float>(), rows, cols);
  EXPECT_LE(err, tol) << what << ": max row-relative error " << err;
}

inline int64_t argmax(const float* x, int64_t n) {
  return std::max_element(x, x + n) - x;
}

// One golden case: the model ("tiny-a" or "<family>/<model>", as golden_path takes it)
// and the case's name (a full_model or vision golden).
struct GoldenCase {
  std::string model, name;
};

// How gtest shows a case (in ctest's listing, and in failures): "<model> <name>", not the
// raw bytes it prints for a struct without a printer. A type derived from GoldenCase needs
// its own PrintTo (gtest's catch-all template is a better match than this one), which can
// call this one.
inline void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.model << ' ' << c.name; }

// A parameterized test's name from its parts: joined with '_', every character gtest
// does not allow ('/', '-', '.') made '_'.
inline std::string param_name(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (std::string_view part : parts) {
    if (!s.empty()) s += '_';
    s += part;
  }
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

// "<model>_<name>" of any parameter with those two fields (GoldenCase and the cases that
// add to it).
template <typename Case>
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  return param_name({info.param.model, info.param.name});
}

// An image_grid_thw tensor ([images, 3], int64) as grids.
inline std::vector<models::GridTHW> grids_of(const TensorView& image_grid_thw) {
  const std::vector<int64_t> thw = to_i64(image_grid_thw);
  std::vector<models::GridTHW> grids;
  for (size_t i = 0; i + 2 < thw.size(); i += 3) grids.push_back({thw[i], thw[i + 1], thw[i + 2]});
  return grids;
}

// A whole-model golden (full_model/<name>.safetensors and .json): the tensors, the
// metadata (messages, images, generated_ids, ...), the prompt ids and the image grids
// (none for a text prompt).
struct FullModelGoldenFile {
  SafetensorsFile tensors;
  Json meta;
  std::vector<int32_t> ids;
  std::vector<models::GridTHW> grids;
};

inline FullModelGoldenFile load_full_model_golden(const std::string& model, const std::string& name) {
  FullModelGoldenFile g;
  g.tensors = SafetensorsFile::open(golden_path(model, "full_model/" + name + ".safetensors"));
  g.meta = read_json_file(golden_path(model, "full_model/" + name + ".json"));
  for (int64_t id : to_i64(g.tensors.get("input_ids"))) g.ids.push_back(static_cast<int32_t>(id));
  if (g.tensors.has("image_grid_thw")) g.grids = grids_of(g.tensors.get("image_grid_thw"));
  return g;
}

// The fixture of tests over a full-model golden: SetUp loads the case's (Param has
// `model` and `name`); a derived SetUp calls this one first.
template <typename Param>
class FullModelGoldenTest : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    const Param& c = this->GetParam();
    FullModelGoldenFile g = load_full_model_golden(c.model, c.name);
    golden_ = std::move(g.tensors);
    meta_ = std::move(g.meta);
    ids_ = std::move(g.ids);
    grids_ = std::move(g.grids);
  }

  SafetensorsFile golden_;
  Json meta_;
  std::vector<int32_t> ids_;
  std::vector<models::GridTHW> grids_;
};

// A vision-tower golden (vision/<name>.safetensors, and its entry in vision/vision.json).
struct VisionGoldenFile {
  SafetensorsFile tensors;
  Json meta;
  std::vector<models::GridTHW> grids;
};

inline VisionGoldenFile load_vision_golden(const std::string& model, const std::string& name) {
  VisionGoldenFile g;
  g.tensors = SafetensorsFile::open(golden_path(model, "vision/" + name + ".safetensors"));
  g.meta = read_json_file(golden_path(model, "vision/vision.json")).at(name);
  g.grids = grids_of(g.tensors.get("image_grid_thw"));
  return g;
}

}  // namespace kantu::test
