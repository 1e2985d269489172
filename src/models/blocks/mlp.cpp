#include "models/blocks/mlp.h"

#include "core/error.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {

namespace {

struct ActivationName {
  const char* name;
  Activation act;
};
constexpr ActivationName kActivationNames[] = {
    {"silu", Activation::kSilu},
    {"swish", Activation::kSilu},
    {"gelu_pytorch_tanh", Activation::kGeluTanh},
    {"gelu_new", Activation::kGeluTanh},
    {"gelu", Activation::kGeluErf},
    {"quick_gelu", Activation::kQuickGelu},
};

}  // namespace

std::optional<Activation> activation_from_name(const std::string& name) {
  for (const ActivationName& a : kActivationNames) {
    if (name == a.name) return a.act;
  }
  return std::nullopt;
}

const char* activation_name(Activation act) {
  for (const ActivationName& a : kActivationNames) {
    if (a.act == act) return a.name;
  }
  return "?";
}

void activate(Activation act, float* x, int64_t n) {
  switch (act) {
    case Activation::kGeluTanh:
      kernels::gelu_tanh(x, n);
      return;
    case Activation::kGeluErf:
      kernels::gelu_erf(x, n);
      return;
    case Activation::kQuickGelu:
      kernels::quick_gelu(x, n);
      return;
    case Activation::kSilu:
      kernels::silu(x, n);
      return;
  }
}

void mlp_forward(const MlpSpec& spec, const MlpWeights& w, const float* x, int64_t n,
                 float* inner_a, float* inner_b, float* out, ThreadPool* pool) {
  const int64_t inner = w.up.w.rows;
  if (spec.kind == MlpKind::kPlain) {
    linear(x, n, w.up, inner_a, pool);
    activate(spec.act, inner_a, n * inner);
    linear(inner_a, n, w.down, out, pool);
    return;
  }
  KANTU_CHECK(spec.act == Activation::kSilu, "gated MLP with ", activation_name(spec.act));
  linear(x, n, w.gate, inner_a, pool);
  linear(x, n, w.up, inner_b, pool);
  kernels::silu_mul(inner_a, inner_b, inner_a, n * inner);
  linear(inner_a, n, w.down, out, pool);
}

}  // namespace kantu::models::blocks
