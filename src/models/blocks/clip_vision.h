// The CLIP vision transformer (transformers' CLIPVisionModel), as LLaVA runs it:
//   patch embedding (Conv2d, kernel = stride = one patch, no bias: a linear layer over the
//   patch's C*P*P values, channel-major) with the class embedding as row 0 and the learned
//   position table added (no interpolation: tiles are always image_size square),
//   -> pre_layrnorm -> LayerNorm + attention (biases) / LayerNorm + MLP (fc1, act, fc2, biases)
//   blocks, each tile attending only within itself.
// Hidden state k is HF's hidden_states[k]: 0 = after pre_layrnorm, k = after layer k-1. Only
// the layers up to the deepest requested state run; post_layernorm only feeds CLIP's pooled
// output, which LLaVA never reads, so it is not part of this block.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "models/blocks/binder.h"
#include "models/blocks/encoder_block.h"
#include "models/model.h"

namespace kantu::models::blocks {

struct ClipVisionConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_channels = 3;
  int64_t image_size = 0;
  int64_t patch_size = 0;
  float layer_norm_eps = 1e-5f;
  Activation act = Activation::kQuickGelu;

  int64_t grid() const { return image_size / patch_size; }
  int64_t positions() const { return grid() * grid() + 1; }
  int64_t patch_dim() const { return num_channels * patch_size * patch_size; }
  EncoderBlockSpec block_spec() const;
};

struct ClipVisionWeights {
  kernels::WeightMatrix patch_embed;     // [hidden, C*P*P]
  std::vector<float> class_embedding;    // [hidden]
  std::vector<float> position_embedding; // [positions, hidden]
  Norm pre_norm;                         // pre_layrnorm
  std::vector<EncoderBlockWeights> layers;  // the layers that run (may be fewer than num_layers)
};

// Binds <prefix>embeddings.*, <prefix>pre_layrnorm.*, <prefix>encoder.layers.<i>.* for
// i < layers_needed (prefix e.g. "vision_tower.vision_model.").
ClipVisionWeights bind_clip_vision(const Binder& b, const ClipVisionConfig& c, const std::string& prefix,
                                   int64_t layers_needed);

// Runs `tiles` square tiles (pixels [tiles, C, S, S], channels first) and returns the hidden
// states listed in `states` (each [tiles * positions, hidden], row = tile * positions + p;
// p = 0 is the class token). Dumps "vision.embeddings_out" and "vision.hidden_states.<k>".
std::vector<std::vector<float>> clip_vision_forward(const ClipVisionConfig& c, const ClipVisionWeights& w,
                                                    const float* pixels, int64_t tiles,
                                                    std::span<const int64_t> states, ThreadPool* pool,
                                                    Dumps* dumps);

// "vision.patch_embed", "vision.layers.<i>.{q,k,v,o,fc1,fc2}".
void clip_vision_matrices(ClipVisionWeights& w, std::vector<NamedMatrix>& out);

}  // namespace kantu::models::blocks
