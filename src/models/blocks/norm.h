// Row norms: RMSNorm (Qwen/Llama text models, Qwen2.5-VL vision) and LayerNorm (CLIP,
// Qwen2-VL and Qwen3-VL vision), as one typed choice.
#pragma once

#include <cstdint>
#include <vector>

namespace kantu::models::blocks {

enum class NormKind { kRms, kLayer };

struct Norm {
  std::vector<float> weight;  // [dim]
  std::vector<float> bias;    // [dim] for LayerNorm (may be empty: no shift), empty for RMSNorm
};

// y[n, dim] = norm(x[n, dim]) with the weights of `norm`; y may alias x.
void apply_norm(NormKind kind, const Norm& norm, const float* x, int64_t n, int64_t dim, float eps,
                float* y);

}  // namespace kantu::models::blocks
