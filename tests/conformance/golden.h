// Helpers for comparing kantu's tensors with the reference goldens (float32 dumps of
// transformers 4.57.6 in fp32 over the exact BF16 weights).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/tensor.h"
#include "formats/safetensors.h"
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

}  // namespace kantu::test
