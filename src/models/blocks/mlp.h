// The feed-forward variants of the families, as one typed choice:
//   kGated: down(act(gate(x)) * up(x))   (SwiGLU: Qwen/Llama text, Qwen2.5-VL vision)
//   kPlain: fc2(act(fc1(x)))             (CLIP, Qwen2-VL and Qwen3-VL vision, mergers)
// each with or without biases (a Linear without bias has an empty bias).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/thread_pool.h"
#include "models/blocks/linear.h"

namespace kantu::models::blocks {

enum class Activation {
  kSilu,       // x * sigmoid(x)                         ("silu", "swish")
  kGeluTanh,   // tanh approximation                      ("gelu_pytorch_tanh", "gelu_new")
  kGeluErf,    // exact                                   ("gelu")
  kQuickGelu,  // x * sigmoid(1.702 x)                    ("quick_gelu")
};

// The transformers ACT2FN name of an activation, or nullopt when kantu has none for it.
std::optional<Activation> activation_from_name(const std::string& name);
const char* activation_name(Activation act);

// In place over n values.
void activate(Activation act, float* x, int64_t n);

enum class MlpKind { kGated, kPlain };

struct MlpWeights {
  Linear gate;  // kGated only: [inner, dim]
  Linear up;    // kGated: up_proj [inner, dim]; kPlain: fc1 [inner, dim]
  Linear down;  // kGated: down_proj [dim, inner]; kPlain: fc2 [dim, inner]
};

struct MlpSpec {
  MlpKind kind = MlpKind::kGated;
  Activation act = Activation::kSilu;
};

// out[n, dim] = mlp(x[n, dim]); `inner_a` and `inner_b` are scratch of [n, inner] each
// (inner_b unused by kPlain).
void mlp_forward(const MlpSpec& spec, const MlpWeights& w, const float* x, int64_t n,
                 float* inner_a, float* inner_b, float* out, ThreadPool* pool);

}  // namespace kantu::models::blocks
