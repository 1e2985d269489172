// Looking up a model's tensors by name with the shapes its config implies: matrices stay
// views into the mapped files (any stored type the kernels run), vectors (norms, biases,
// small tables) are converted to float32 at load. Errors name the tensor, where it came
// from, and the expected and actual shapes.
#pragma once

#include <string>
#include <vector>

#include "formats/weight_store.h"
#include "kernels/ops.h"
#include "models/blocks/linear.h"
#include "models/blocks/norm.h"

namespace kantu::models::blocks {

class Binder {
 public:
  explicit Binder(const WeightStore& store) : store_(store) {}

  const WeightStore& store() const { return store_; }
  // The tensor, which must have exactly `shape`.
  const TensorView& tensor(const std::string& name, const std::vector<int64_t>& shape) const;
  // A float tensor of `shape` as float32 (F32, F16, BF16 or F64 stored).
  std::vector<float> floats(const std::string& name, const std::vector<int64_t>& shape) const;
  std::vector<float> vector(const std::string& name, int64_t n) const { return floats(name, {n}); }
  // A matrix [shape[0], product of the rest] (a Conv3d kernel flattens to its rows).
  kernels::WeightMatrix matrix(const std::string& name, const std::vector<int64_t>& shape) const;
  // <prefix>weight [out, in] and, with `bias`, <prefix>bias [out].
  Linear linear(const std::string& prefix, int64_t out, int64_t in, bool bias) const;
  // <prefix>weight [dim] and, with `bias`, <prefix>bias [dim].
  Norm norm(const std::string& prefix, int64_t dim, bool bias) const;

 private:
  const WeightStore& store_;
};

// A matrix with the stable name --weights conversion keys its cache on ("text.lm_head").
struct NamedMatrix {
  std::string name;
  kernels::WeightMatrix* matrix;
};

}  // namespace kantu::models::blocks
