// Qwen3-VL weights bound by name from a WeightStore. Big matrices stay in the mapped
// file in their stored type (kernels::WeightMatrix); norm weights, biases and the small
// position table are converted to float32 at load.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "formats/weight_store.h"
#include "kernels/ops.h"
#include "models/qwen3vl/config.h"

namespace kantu::models::qwen3vl {

struct Linear {
  kernels::WeightMatrix w;  // [out, in], row-major, stored dtype
  std::vector<float> bias;  // [out] or empty
  const float* bias_ptr() const { return bias.empty() ? nullptr : bias.data(); }
};

struct Norm {
  std::vector<float> weight;  // [dim]
  std::vector<float> bias;    // [dim] (LayerNorm) or empty (RMSNorm)
};

struct VisionBlockWeights {
  Norm norm1, norm2;  // LayerNorm [D]
  Linear qkv;         // [3D, D] + [3D]; rows q (head-major), then k, then v
  Linear proj;        // [D, D] + [D]
  Linear fc1;         // [I, D] + [I]
  Linear fc2;         // [D, I] + [I]
};

struct MergerWeights {
  Norm norm;   // LayerNorm [D] (final merger, pre-shuffle) or [4D] (deepstack, post-shuffle)
  Linear fc1;  // [4D, 4D] + [4D]
  Linear fc2;  // [out_hidden, 4D] + [out_hidden]
};

struct VisionWeights {
  Linear patch_embed;           // Conv3d as linear: [D, C*T*P*P] + [D]
  std::vector<float> pos_embed; // [G*G, D] f32, row = r*G + c
  std::vector<VisionBlockWeights> blocks;
  MergerWeights merger;
  std::vector<MergerWeights> deepstack;  // one per deepstack_visual_indexes entry
};

struct TextLayerWeights {
  Norm input_norm;      // RMSNorm [hidden]
  Norm post_attn_norm;  // RMSNorm [hidden]
  Norm q_norm, k_norm;  // RMSNorm [head_dim], per head
  kernels::WeightMatrix q_proj;  // [heads*head_dim, hidden]
  kernels::WeightMatrix k_proj;  // [kv_heads*head_dim, hidden]
  kernels::WeightMatrix v_proj;  // [kv_heads*head_dim, hidden]
  kernels::WeightMatrix o_proj;  // [hidden, heads*head_dim]
  kernels::WeightMatrix gate_proj, up_proj;  // [intermediate, hidden]
  kernels::WeightMatrix down_proj;           // [hidden, intermediate]
};

struct TextWeights {
  kernels::WeightMatrix embed_tokens;  // [vocab, hidden]; rows converted to f32 on lookup
  std::vector<TextLayerWeights> layers;
  Norm final_norm;                 // RMSNorm [hidden]
  kernels::WeightMatrix lm_head;   // [vocab, hidden]; = embed_tokens when tied
};

struct Weights {
  VisionWeights vision;
  TextWeights text;
};

// Binds every tensor; one Error(kNotFound) lists all missing names, and a shape or dtype
// mismatch is Error(kCorrupt) naming the tensor with expected and actual shapes.
Weights bind_weights(const WeightStore& store, const Config& config);

// The names bind_weights needs (tests and `kantu info` use them).
std::vector<std::string> required_tensor_names(const Config& config);

}  // namespace kantu::models::qwen3vl
