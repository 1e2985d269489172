#include "models/blocks/patch_merger.h"

#include "kernels/ops.h"

namespace kantu::models::blocks {

std::vector<float> patch_merge(const MergerSpec& spec, const MergerWeights& w, const float* h,
                               int64_t n_patches, ThreadPool* pool) {
  const int64_t n = n_patches / spec.merge_unit;
  const int64_t md = spec.merged();
  std::vector<float> normed(n_patches * spec.hidden);
  if (spec.postshuffle_norm) {
    apply_norm(spec.norm, w.norm, h, n, md, spec.norm_eps, normed.data());
  } else {
    apply_norm(spec.norm, w.norm, h, n_patches, spec.hidden, spec.norm_eps, normed.data());
  }
  std::vector<float> mid(n * md);
  linear(normed.data(), n, w.fc1, mid.data(), pool);
  kernels::gelu_erf(mid.data(), n * md);
  std::vector<float> out(n * spec.out);
  linear(mid.data(), n, w.fc2, out.data(), pool);
  return out;
}

}  // namespace kantu::models::blocks
