// A view of a tensor somewhere in memory (a mapped file or an owned buffer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace kantu {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // outermost first, row-major
  const void* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data); }
};

std::string shape_string(const std::vector<int64_t>& shape);  // "[2, 3]"

// Copies any float-like view (F32/F16/BF16/F64) into float32.
std::vector<float> to_f32(const TensorView& view);

}  // namespace kantu
