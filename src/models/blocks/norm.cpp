#include "models/blocks/norm.h"

#include "kernels/ops.h"

namespace kantu::models::blocks {

void apply_norm(NormKind kind, const Norm& norm, const float* x, int64_t n, int64_t dim, float eps,
                float* y) {
  if (kind == NormKind::kRms) {
    kernels::rms_norm(x, norm.weight.data(), n, dim, eps, y);
  } else {
    kernels::layer_norm(x, norm.weight.data(), norm.bias.empty() ? nullptr : norm.bias.data(), n,
                        dim, eps, y);
  }
}

}  // namespace kantu::models::blocks
