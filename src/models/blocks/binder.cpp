#include "models/blocks/binder.h"

#include "core/error.h"
#include "core/tensor.h"

namespace kantu::models::blocks {

const TensorView& Binder::tensor(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorView& t = store_.get(name);
  if (t.shape != shape) {
    const std::string where = store_.where(name);
    fail(ErrorKind::kCorrupt, "tensor ", name, where.empty() ? "" : " (" + where + ")",
         " has shape ", shape_string(t.shape), ", expected ", shape_string(shape),
         " from the model config");
  }
  return t;
}

std::vector<float> Binder::floats(const std::string& name, const std::vector<int64_t>& shape) const {
  const TensorView& t = tensor(name, shape);
  if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16 &&
      t.dtype != DType::kF64) {
    fail(ErrorKind::kUnsupported, "tensor ", t.name, " has dtype ", dtype_name(t.dtype),
         ", expected a floating-point type");
  }
  return to_f32(t);
}

kernels::WeightMatrix Binder::matrix(const std::string& name,
                                     const std::vector<int64_t>& shape) const {
  const TensorView& t = tensor(name, shape);
  // Block-quantized matrices (GGUF Q8_0, Q4_0, Q4_K, Q5_K, Q6_K) run on the kernels as
  // stored; their rows are whole blocks (the GGUF reader checked the innermost dim).
  if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16 &&
      !dtype_is_quantized(t.dtype)) {
    fail(ErrorKind::kUnsupported, "tensor ", name, " has dtype ", dtype_name(t.dtype),
         "; matrices must be F32, F16, BF16 or a block-quantized type");
  }
  kernels::WeightMatrix m;
  m.dtype = t.dtype;
  m.rows = shape[0];
  m.cols = t.numel() / shape[0];
  m.data = t.data;
  return m;
}

Linear Binder::linear(const std::string& prefix, int64_t out, int64_t in, bool bias) const {
  Linear l;
  l.w = matrix(prefix + "weight", {out, in});
  if (bias) l.bias = vector(prefix + "bias", out);
  return l;
}

Norm Binder::norm(const std::string& prefix, int64_t dim, bool bias) const {
  Norm n;
  n.weight = vector(prefix + "weight", dim);
  if (bias) n.bias = vector(prefix + "bias", dim);
  return n;
}

}  // namespace kantu::models::blocks
