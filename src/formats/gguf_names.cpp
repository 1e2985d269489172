// The name table itself: fixed names, then per-block suffix pairs for the text decoder
// layers, the vision blocks and the (deep-stack) mergers, per family where they differ.
#include "formats/gguf_names.h"

#include <array>
#include <charconv>
#include <string_view>
#include <utility>

namespace kantu {

namespace {

using Pair = std::pair<std::string_view, std::string_view>;  // {HF, GGUF}

constexpr std::string_view kHfTextLayer = "model.language_model.layers.";
constexpr std::string_view kHfVisionBlock = "model.visual.blocks.";
constexpr std::string_view kHfDeepstack = "model.visual.deepstack_merger_list.";
constexpr std::string_view kGgufTextLayer = "blk.";
constexpr std::string_view kGgufVisionBlock = "v.blk.";
constexpr std::string_view kGgufDeepstack = "v.deepstack.";

// Whole-model tensors with no block number.
constexpr std::array<Pair, 3> kFixedText = {{
    {"model.language_model.embed_tokens.weight", "token_embd.weight"},
    {"model.language_model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
}};
constexpr std::array<Pair, 9> kFixedQwen3Vision = {{
    {"model.visual.patch_embed.proj.weight", "v.patch_embd.weight"},  // T=0 half, see header
    {"model.visual.patch_embed.proj.bias", "v.patch_embd.bias"},
    {"model.visual.pos_embed.weight", "v.position_embd.weight"},
    {"model.visual.merger.norm.weight", "v.post_ln.weight"},
    {"model.visual.merger.norm.bias", "v.post_ln.bias"},
    {"model.visual.merger.linear_fc1.weight", "mm.0.weight"},
    {"model.visual.merger.linear_fc1.bias", "mm.0.bias"},
    {"model.visual.merger.linear_fc2.weight", "mm.2.weight"},
    {"model.visual.merger.linear_fc2.bias", "mm.2.bias"},
}};
constexpr std::array<Pair, 7> kFixedQwen2Vision = {{
    {"model.visual.patch_embed.proj.weight", "v.patch_embd.weight"},  // no bias
    {"model.visual.merger.ln_q.weight", "v.post_ln.weight"},
    {"model.visual.merger.ln_q.bias", "v.post_ln.bias"},  // Qwen2-VL's LayerNorm only
    {"model.visual.merger.mlp.0.weight", "mm.0.weight"},
    {"model.visual.merger.mlp.0.bias", "mm.0.bias"},
    {"model.visual.merger.mlp.2.weight", "mm.2.weight"},
    {"model.visual.merger.mlp.2.bias", "mm.2.bias"},
}};

// model.language_model.layers.N.<hf> <-> blk.N.<gguf> (Qwen3 has q/k norms, Qwen2 q/k/v
// biases: one table serves both)
constexpr std::array<Pair, 14> kTextLayer = {{
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
}};

// model.visual.blocks.N.<hf> <-> v.blk.N.<gguf>
constexpr std::array<Pair, 12> kQwen3VisionBlock = {{
    {"norm1.weight", "ln1.weight"},
    {"norm1.bias", "ln1.bias"},
    {"attn.qkv.weight", "attn_qkv.weight"},
    {"attn.qkv.bias", "attn_qkv.bias"},
    {"attn.proj.weight", "attn_out.weight"},
    {"attn.proj.bias", "attn_out.bias"},
    {"norm2.weight", "ln2.weight"},
    {"norm2.bias", "ln2.bias"},
    {"mlp.linear_fc1.weight", "ffn_up.weight"},
    {"mlp.linear_fc1.bias", "ffn_up.bias"},
    {"mlp.linear_fc2.weight", "ffn_down.weight"},
    {"mlp.linear_fc2.bias", "ffn_down.bias"},
}};

// Qwen2-VL: LayerNorm and fc1/fc2; Qwen2.5-VL: RMSNorm (no bias) and gate/up/down.
// attn.q/k/v are the converter's split of the fused attn.qkv.
constexpr std::array<Pair, 23> kQwen2VisionBlock = {{
    {"norm1.weight", "ln1.weight"},
    {"norm1.bias", "ln1.bias"},
    {"attn.q.weight", "attn_q.weight"},
    {"attn.q.bias", "attn_q.bias"},
    {"attn.k.weight", "attn_k.weight"},
    {"attn.k.bias", "attn_k.bias"},
    {"attn.v.weight", "attn_v.weight"},
    {"attn.v.bias", "attn_v.bias"},
    {"attn.proj.weight", "attn_out.weight"},
    {"attn.proj.bias", "attn_out.bias"},
    {"norm2.weight", "ln2.weight"},
    {"norm2.bias", "ln2.bias"},
    {"mlp.fc1.weight", "ffn_up.weight"},
    {"mlp.fc1.bias", "ffn_up.bias"},
    {"mlp.fc2.weight", "ffn_down.weight"},
    {"mlp.fc2.bias", "ffn_down.bias"},
    {"mlp.up_proj.weight", "ffn_up.weight"},  // (2.5; the GGUF->HF direction picks by family)
    {"mlp.up_proj.bias", "ffn_up.bias"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.gate_proj.bias", "ffn_gate.bias"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.down_proj.bias", "ffn_down.bias"},
    {"attn.qkv.weight", ""},  // never 1:1 (gguf_qkv_split_names)
}};

// LLaVA (llava-hf's layout) as llama.cpp's legacy LLaVA converter names it
// (convert_image_encoder_to_gguf.py: CLIP tower "v.", projector "mm.", the NeXT newline
// "model.image_newline"), and the Llama text model as convert_hf_to_gguf.py does.
constexpr std::array<Pair, 3> kFixedLlavaText = {{
    {"language_model.model.embed_tokens.weight", "token_embd.weight"},
    {"language_model.model.norm.weight", "output_norm.weight"},
    {"language_model.lm_head.weight", "output.weight"},
}};
constexpr std::array<Pair, 12> kFixedLlavaVision = {{
    {"vision_tower.vision_model.embeddings.class_embedding", "v.class_embd"},
    {"vision_tower.vision_model.embeddings.patch_embedding.weight", "v.patch_embd.weight"},
    {"vision_tower.vision_model.embeddings.position_embedding.weight", "v.position_embd.weight"},
    {"vision_tower.vision_model.pre_layrnorm.weight", "v.pre_ln.weight"},
    {"vision_tower.vision_model.pre_layrnorm.bias", "v.pre_ln.bias"},
    {"vision_tower.vision_model.post_layernorm.weight", "v.post_ln.weight"},
    {"vision_tower.vision_model.post_layernorm.bias", "v.post_ln.bias"},
    {"multi_modal_projector.linear_1.weight", "mm.0.weight"},
    {"multi_modal_projector.linear_1.bias", "mm.0.bias"},
    {"multi_modal_projector.linear_2.weight", "mm.2.weight"},
    {"multi_modal_projector.linear_2.bias", "mm.2.bias"},
    {"image_newline", "model.image_newline"},
}};
constexpr std::string_view kHfLlavaTextLayer = "language_model.model.layers.";
constexpr std::string_view kHfLlavaVisionBlock = "vision_tower.vision_model.encoder.layers.";
// CLIP blocks. The legacy converter swaps the MLP names (fc1 -> ffn_down, fc2 -> ffn_up);
// llama.cpp detects that by shape, and so does the reader (gguf_model.cpp).
constexpr std::array<Pair, 16> kClipVisionBlock = {{
    {"layer_norm1.weight", "ln1.weight"},
    {"layer_norm1.bias", "ln1.bias"},
    {"layer_norm2.weight", "ln2.weight"},
    {"layer_norm2.bias", "ln2.bias"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.out_proj.weight", "attn_out.weight"},
    {"self_attn.out_proj.bias", "attn_out.bias"},
    {"mlp.fc1.weight", "ffn_down.weight"},
    {"mlp.fc1.bias", "ffn_down.bias"},
    {"mlp.fc2.weight", "ffn_up.weight"},
    {"mlp.fc2.bias", "ffn_up.bias"},
}};

// model.visual.deepstack_merger_list.K.<hf> <-> v.deepstack.L.<gguf>, L = indexes[K]
constexpr std::array<Pair, 6> kDeepstack = {{
    {"norm.weight", "norm.weight"},
    {"norm.bias", "norm.bias"},
    {"linear_fc1.weight", "fc1.weight"},
    {"linear_fc1.bias", "fc1.bias"},
    {"linear_fc2.weight", "fc2.weight"},
    {"linear_fc2.bias", "fc2.bias"},
}};

// "<prefix><number>.<rest>" -> {number, rest}; false when the name does not have that form.
bool split_numbered(std::string_view name, std::string_view prefix, int64_t* number,
                    std::string_view* rest) {
  if (!name.starts_with(prefix)) return false;
  name.remove_prefix(prefix.size());
  const size_t dot = name.find('.');
  if (dot == 0 || dot == std::string_view::npos) return false;
  const std::string_view digits = name.substr(0, dot);
  if (digits.size() > 1 && digits[0] == '0') return false;  // one spelling per number
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *number);
  if (ec != std::errc() || end != digits.data() + digits.size() || *number < 0) return false;
  *rest = name.substr(dot + 1);
  return true;
}

// Qwen2.5-VL's MLP names win the GGUF->HF direction for ffn_up / ffn_down, Qwen2-VL's
// fc1 / fc2 otherwise; `skip` names the rows of the other variant.
template <size_t N>
std::optional<std::string_view> lookup(const std::array<Pair, N>& table, std::string_view key,
                                       bool from_hf, std::string_view skip = {}) {
  for (const Pair& p : table) {
    if (!skip.empty() && p.first.find(skip) != std::string_view::npos) continue;
    if ((from_hf ? p.first : p.second) == key && !p.second.empty()) {
      return from_hf ? p.second : p.first;
    }
  }
  return std::nullopt;
}

bool is_qwen3(ModelFamily f) { return f == ModelFamily::kQwen3VL; }
bool is_llava(ModelFamily f) { return f == ModelFamily::kLlava || f == ModelFamily::kLlavaNext; }

// The official Qwen2/2.5-VL prefixes ("model.layers.", "visual.") in the modern spelling.
std::string modern_name(const std::string& hf) {
  static constexpr std::array<Pair, 4> kOfficial = {{
      {"model.layers.", "model.language_model.layers."},
      {"model.embed_tokens.", "model.language_model.embed_tokens."},
      {"model.norm.", "model.language_model.norm."},
      {"visual.", "model.visual."},
  }};
  for (const Pair& p : kOfficial) {
    if (std::string_view(hf).starts_with(p.first)) {
      return std::string(p.second) + hf.substr(p.first.size());
    }
  }
  return hf;
}

std::string numbered(std::string_view prefix, int64_t number, std::string_view rest) {
  std::string out(prefix);
  out += std::to_string(number);
  out += '.';
  out += rest;
  return out;
}

}  // namespace

// Qwen3's text layers have q/k norms and no biases; Qwen2's (and Llama's) the opposite.
bool text_row_of_family(ModelFamily family, std::string_view hf_rest) {
  const bool norm = hf_rest == "self_attn.q_norm.weight" || hf_rest == "self_attn.k_norm.weight";
  return is_qwen3(family) ? !hf_rest.ends_with(".bias") : !norm;
}

namespace {

std::optional<std::string> llava_gguf_name(const std::string& hf) {
  if (auto fixed = lookup(kFixedLlavaText, hf, true)) return std::string(*fixed);
  if (auto fixed = lookup(kFixedLlavaVision, hf, true)) return std::string(*fixed);
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(hf, kHfLlavaTextLayer, &n, &rest) && text_row_of_family(ModelFamily::kLlava, rest))
    if (auto g = lookup(kTextLayer, rest, true)) return numbered(kGgufTextLayer, n, *g);
  if (split_numbered(hf, kHfLlavaVisionBlock, &n, &rest))
    if (auto g = lookup(kClipVisionBlock, rest, true)) return numbered(kGgufVisionBlock, n, *g);
  return std::nullopt;
}

std::optional<std::string> llava_hf_name(const std::string& gguf) {
  if (auto fixed = lookup(kFixedLlavaText, gguf, false)) return std::string(*fixed);
  if (auto fixed = lookup(kFixedLlavaVision, gguf, false)) return std::string(*fixed);
  if (gguf == "v.image_newline") return std::string("image_newline");  // newer llama.cpp's name
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(gguf, kGgufTextLayer, &n, &rest))
    if (auto h = lookup(kTextLayer, rest, false); h && text_row_of_family(ModelFamily::kLlava, *h))
      return numbered(kHfLlavaTextLayer, n, *h);
  if (split_numbered(gguf, kGgufVisionBlock, &n, &rest))
    if (auto h = lookup(kClipVisionBlock, rest, false)) return numbered(kHfLlavaVisionBlock, n, *h);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> gguf_name_of(const std::string& hf_in, ModelFamily family,
                                        std::span<const int64_t> deepstack_indexes) {
  if (is_llava(family)) return llava_gguf_name(hf_in);
  const std::string hf_name = is_qwen3(family) ? hf_in : modern_name(hf_in);
  if (auto fixed = lookup(kFixedText, hf_name, true)) return std::string(*fixed);
  if (is_qwen3(family)) {
    if (auto fixed = lookup(kFixedQwen3Vision, hf_name, true)) return std::string(*fixed);
  } else if (auto fixed = lookup(kFixedQwen2Vision, hf_name, true)) {
    return std::string(*fixed);
  }
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(hf_name, kHfTextLayer, &n, &rest) && text_row_of_family(family, rest))
    if (auto g = lookup(kTextLayer, rest, true)) return numbered(kGgufTextLayer, n, *g);
  if (split_numbered(hf_name, kHfVisionBlock, &n, &rest)) {
    const auto g = is_qwen3(family) ? lookup(kQwen3VisionBlock, rest, true)
                                    : lookup(kQwen2VisionBlock, rest, true);
    if (g) return numbered(kGgufVisionBlock, n, *g);
  }
  if (is_qwen3(family) && split_numbered(hf_name, kHfDeepstack, &n, &rest)) {
    if (n >= static_cast<int64_t>(deepstack_indexes.size())) return std::nullopt;
    if (auto g = lookup(kDeepstack, rest, true))
      return numbered(kGgufDeepstack, deepstack_indexes[static_cast<size_t>(n)], *g);
  }
  return std::nullopt;
}

std::optional<std::string> hf_name_of(const std::string& gguf_name, ModelFamily family,
                                      std::span<const int64_t> deepstack_indexes) {
  if (is_llava(family)) return llava_hf_name(gguf_name);
  if (auto fixed = lookup(kFixedText, gguf_name, false)) return std::string(*fixed);
  const auto fixed = is_qwen3(family) ? lookup(kFixedQwen3Vision, gguf_name, false)
                                      : lookup(kFixedQwen2Vision, gguf_name, false);
  if (fixed) return std::string(*fixed);
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(gguf_name, kGgufTextLayer, &n, &rest)) {
    if (auto h = lookup(kTextLayer, rest, false); h && text_row_of_family(family, *h)) {
      return numbered(kHfTextLayer, n, *h);
    }
  }
  if (split_numbered(gguf_name, kGgufVisionBlock, &n, &rest)) {
    const auto h = is_qwen3(family) ? lookup(kQwen3VisionBlock, rest, false)
                   : family == ModelFamily::kQwen25VL ? lookup(kQwen2VisionBlock, rest, false, "mlp.fc")
                                                      : lookup(kQwen2VisionBlock, rest, false, "_proj");
    if (h) return numbered(kHfVisionBlock, n, *h);
  }
  if (is_qwen3(family) && split_numbered(gguf_name, kGgufDeepstack, &n, &rest)) {
    for (size_t k = 0; k < deepstack_indexes.size(); ++k)
      if (deepstack_indexes[k] == n)
        if (auto h = lookup(kDeepstack, rest, false))
          return numbered(kHfDeepstack, static_cast<int64_t>(k), *h);
  }
  return std::nullopt;
}

std::optional<std::array<std::string, 3>> gguf_qkv_split_names(const std::string& hf_in,
                                                               ModelFamily family) {
  if (is_qwen3(family) || is_llava(family)) return std::nullopt;
  const std::string hf_name = modern_name(hf_in);  // the official spellings too
  int64_t n = 0;
  std::string_view rest;
  if (!split_numbered(hf_name, kHfVisionBlock, &n, &rest)) return std::nullopt;
  if (rest != "attn.qkv.weight" && rest != "attn.qkv.bias") return std::nullopt;
  const std::string suffix = rest.ends_with("weight") ? ".weight" : ".bias";
  return std::array<std::string, 3>{numbered(kGgufVisionBlock, n, "attn_q" + suffix),
                                    numbered(kGgufVisionBlock, n, "attn_k" + suffix),
                                    numbered(kGgufVisionBlock, n, "attn_v" + suffix)};
}

std::string swap_clip_mlp_name(const std::string& gguf_name) {
  if (!gguf_name.starts_with("v.blk.")) return gguf_name;
  std::string out = gguf_name;
  if (const size_t at = out.find(".ffn_down."); at != std::string::npos) return out.replace(at, 10, ".ffn_up.");
  if (const size_t at = out.find(".ffn_up."); at != std::string::npos) return out.replace(at, 8, ".ffn_down.");
  return gguf_name;
}

GgufPairFile gguf_file_of(const std::string& gguf_name) {
  const std::string_view name = gguf_name;
  return name.starts_with("v.") || name.starts_with("mm.") || name == "model.image_newline"
             ? GgufPairFile::kMmproj
             : GgufPairFile::kText;
}

DType gguf_storage_dtype(const std::string& gguf_name, int rank, DType weights) {
  const std::string_view name = gguf_name;
  if (name == "v.patch_embd.weight" || name == "v.patch_embd.weight.1")
    return weights == DType::kF16 ? DType::kF16 : DType::kF32;
  if (rank <= 1 || !name.ends_with(".weight") || name.ends_with("_norm.weight") ||
      name == "v.position_embd.weight")
    return DType::kF32;
  return weights;
}

}  // namespace kantu

