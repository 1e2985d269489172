#include "models/qwen3vl/weights.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quant.h"

namespace kantu::models::qwen3vl {
namespace {

// Checkpoint layouts: transformers >= 4.52 nests both towers under "model."; older
// exports used "model." for the text model and "visual." for the vision tower.
struct Prefixes {
  std::string text, vision;
};

Prefixes detect_prefixes(const WeightStore& store) {
  if (store.has("model.embed_tokens.weight") && !store.has("model.language_model.embed_tokens.weight")) {
    return {"model.", "visual."};
  }
  return {"model.language_model.", "model.visual."};
}

std::string vision_block(const Prefixes& p, int64_t i) {
  return p.vision + "blocks." + std::to_string(i) + ".";
}
std::string text_layer(const Prefixes& p, int64_t i) {
  return p.text + "layers." + std::to_string(i) + ".";
}
std::string deepstack_prefix(const Prefixes& p, size_t k) {
  return p.vision + "deepstack_merger_list." + std::to_string(k) + ".";
}

class Binder {
 public:
  explicit Binder(const WeightStore& store) : store_(store) {}

  const TensorView& tensor(const std::string& name, const std::vector<int64_t>& shape) const {
    const TensorView& t = store_.get(name);
    if (t.shape != shape) {
      const std::string where = store_.where(name);
      fail(ErrorKind::kCorrupt, "tensor ", name, where.empty() ? "" : " (" + where + ")",
           " has shape ", shape_string(t.shape), ", expected ", shape_string(shape),
           " from the model config");
    }
    return t;
  }

  std::vector<float> vector(const std::string& name, int64_t n) const {
    const TensorView& t = tensor(name, {n});
    check_float(t);
    return to_f32(t);
  }

  // A matrix [rows, cols]; `shape` may have more dims (the Conv3d kernel) whose product
  // after the first is cols.
  kernels::WeightMatrix matrix(const std::string& name, const std::vector<int64_t>& shape) const {
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

  Linear linear(const std::string& prefix, int64_t out, int64_t in, bool bias) const {
    Linear l;
    l.w = matrix(prefix + "weight", {out, in});
    if (bias) l.bias = vector(prefix + "bias", out);
    return l;
  }

  Norm norm(const std::string& prefix, int64_t dim, bool bias) const {
    Norm n;
    n.weight = vector(prefix + "weight", dim);
    if (bias) n.bias = vector(prefix + "bias", dim);
    return n;
  }

 private:
  static void check_float(const TensorView& t) {
    if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16 &&
        t.dtype != DType::kF64) {
      fail(ErrorKind::kUnsupported, "tensor ", t.name, " has dtype ", dtype_name(t.dtype),
           ", expected a floating-point type");
    }
  }
  const WeightStore& store_;
};

MergerWeights bind_merger(const Binder& b, const std::string& prefix, const VisionConfig& v,
                          bool postshuffle_norm) {
  MergerWeights m;
  m.norm = b.norm(prefix + "norm.", postshuffle_norm ? v.merged_dim() : v.hidden_size, true);
  m.fc1 = b.linear(prefix + "linear_fc1.", v.merged_dim(), v.merged_dim(), true);
  m.fc2 = b.linear(prefix + "linear_fc2.", v.out_hidden_size, v.merged_dim(), true);
  return m;
}

}  // namespace

std::vector<std::string> required_tensor_names(const Config& config) {
  // Names only; the prefixes follow the modern layout (bind_weights re-derives them).
  std::vector<std::string> names;
  Prefixes p{"model.language_model.", "model.visual."};
  auto add = [&](const std::string& prefix, std::initializer_list<const char*> parts) {
    for (const char* part : parts) names.push_back(prefix + part);
  };
  if (config.has_vision) {
    add(p.vision, {"patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed.weight"});
  }
  for (int64_t i = 0; config.has_vision && i < config.vision.depth; ++i) {
    add(vision_block(p, i),
        {"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "attn.qkv.weight",
         "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.linear_fc1.weight",
         "mlp.linear_fc1.bias", "mlp.linear_fc2.weight", "mlp.linear_fc2.bias"});
  }
  const std::initializer_list<const char*> merger_parts = {
      "norm.weight", "norm.bias", "linear_fc1.weight", "linear_fc1.bias", "linear_fc2.weight",
      "linear_fc2.bias"};
  if (config.has_vision) add(p.vision + "merger.", merger_parts);
  for (size_t k = 0; config.has_vision && k < config.vision.deepstack_visual_indexes.size(); ++k) {
    add(deepstack_prefix(p, k), merger_parts);
  }
  add(p.text, {"embed_tokens.weight", "norm.weight"});
  for (int64_t i = 0; i < config.text.num_layers; ++i) {
    add(text_layer(p, i),
        {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
         "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
         "self_attn.q_norm.weight", "self_attn.k_norm.weight", "mlp.gate_proj.weight",
         "mlp.up_proj.weight", "mlp.down_proj.weight"});
  }
  if (!config.tie_word_embeddings) names.push_back("lm_head.weight");
  return names;
}

Weights bind_weights(const WeightStore& store, const Config& config) {
  const Prefixes p = detect_prefixes(store);
  {
    std::vector<std::string> names = required_tensor_names(config);
    const Prefixes modern{"model.language_model.", "model.visual."};
    if (p.text != modern.text) {
      for (auto& name : names) {
        if (name.rfind(modern.text, 0) == 0) name = p.text + name.substr(modern.text.size());
        else if (name.rfind(modern.vision, 0) == 0) name = p.vision + name.substr(modern.vision.size());
      }
    }
    store.require(names, "Qwen3-VL checkpoint");
  }

  const Binder b(store);
  const VisionConfig& v = config.vision;
  const TextConfig& t = config.text;
  Weights w;

  // Vision tower (absent in a text-only model).
  if (config.has_vision) {
    w.vision.patch_embed.w = b.matrix(
        p.vision + "patch_embed.proj.weight",
        {v.hidden_size, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size});
    w.vision.patch_embed.bias = b.vector(p.vision + "patch_embed.proj.bias", v.hidden_size);
    w.vision.pos_embed =
        to_f32(b.tensor(p.vision + "pos_embed.weight", {v.num_position_embeddings, v.hidden_size}));
    for (int64_t i = 0; i < v.depth; ++i) {
      const std::string pre = vision_block(p, i);
      VisionBlockWeights blk;
      blk.norm1 = b.norm(pre + "norm1.", v.hidden_size, true);
      blk.norm2 = b.norm(pre + "norm2.", v.hidden_size, true);
      blk.qkv = b.linear(pre + "attn.qkv.", 3 * v.hidden_size, v.hidden_size, true);
      blk.proj = b.linear(pre + "attn.proj.", v.hidden_size, v.hidden_size, true);
      blk.fc1 = b.linear(pre + "mlp.linear_fc1.", v.intermediate_size, v.hidden_size, true);
      blk.fc2 = b.linear(pre + "mlp.linear_fc2.", v.hidden_size, v.intermediate_size, true);
      w.vision.blocks.push_back(std::move(blk));
    }
    w.vision.merger = bind_merger(b, p.vision + "merger.", v, false);
    for (size_t k = 0; k < v.deepstack_visual_indexes.size(); ++k) {
      w.vision.deepstack.push_back(bind_merger(b, deepstack_prefix(p, k), v, true));
    }
  }

  // Language model.
  const int64_t q_dim = t.num_heads * t.head_dim;
  const int64_t kv_dim = t.num_kv_heads * t.head_dim;
  w.text.embed_tokens = b.matrix(p.text + "embed_tokens.weight", {t.vocab_size, t.hidden_size});
  for (int64_t i = 0; i < t.num_layers; ++i) {
    const std::string pre = text_layer(p, i);
    TextLayerWeights l;
    l.input_norm = b.norm(pre + "input_layernorm.", t.hidden_size, false);
    l.post_attn_norm = b.norm(pre + "post_attention_layernorm.", t.hidden_size, false);
    l.q_norm = b.norm(pre + "self_attn.q_norm.", t.head_dim, false);
    l.k_norm = b.norm(pre + "self_attn.k_norm.", t.head_dim, false);
    l.q_proj = b.matrix(pre + "self_attn.q_proj.weight", {q_dim, t.hidden_size});
    l.k_proj = b.matrix(pre + "self_attn.k_proj.weight", {kv_dim, t.hidden_size});
    l.v_proj = b.matrix(pre + "self_attn.v_proj.weight", {kv_dim, t.hidden_size});
    l.o_proj = b.matrix(pre + "self_attn.o_proj.weight", {t.hidden_size, q_dim});
    l.gate_proj = b.matrix(pre + "mlp.gate_proj.weight", {t.intermediate_size, t.hidden_size});
    l.up_proj = b.matrix(pre + "mlp.up_proj.weight", {t.intermediate_size, t.hidden_size});
    l.down_proj = b.matrix(pre + "mlp.down_proj.weight", {t.hidden_size, t.intermediate_size});
    w.text.layers.push_back(std::move(l));
  }
  w.text.final_norm = b.norm(p.text + "norm.", t.hidden_size, false);
  w.text.lm_head = config.tie_word_embeddings
                       ? w.text.embed_tokens
                       : b.matrix("lm_head.weight", {t.vocab_size, t.hidden_size});
  return w;
}


}  // namespace kantu::models::qwen3vl
