// The name table itself: fixed names, then per-block suffix pairs for the text decoder
// layers, the vision blocks and the (deep-stack) mergers.
#include "formats/gguf_qwen3vl_names.h"

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
constexpr std::array<Pair, 12> kFixed = {{
    {"model.language_model.embed_tokens.weight", "token_embd.weight"},
    {"model.language_model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
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

// model.language_model.layers.N.<hf> <-> blk.N.<gguf>
constexpr std::array<Pair, 11> kTextLayer = {{
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
}};

// model.visual.blocks.N.<hf> <-> v.blk.N.<gguf>
constexpr std::array<Pair, 12> kVisionBlock = {{
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

template <size_t N>
std::optional<std::string_view> lookup(const std::array<Pair, N>& table, std::string_view key,
                                       bool from_hf) {
  for (const Pair& p : table)
    if ((from_hf ? p.first : p.second) == key) return from_hf ? p.second : p.first;
  return std::nullopt;
}

std::string numbered(std::string_view prefix, int64_t number, std::string_view rest) {
  std::string out(prefix);
  out += std::to_string(number);
  out += '.';
  out += rest;
  return out;
}

}  // namespace

std::optional<std::string> qwen3vl_gguf_name(const std::string& hf_name,
                                             std::span<const int64_t> deepstack_indexes) {
  if (auto fixed = lookup(kFixed, hf_name, true)) return std::string(*fixed);
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(hf_name, kHfTextLayer, &n, &rest))
    if (auto g = lookup(kTextLayer, rest, true)) return numbered(kGgufTextLayer, n, *g);
  if (split_numbered(hf_name, kHfVisionBlock, &n, &rest))
    if (auto g = lookup(kVisionBlock, rest, true)) return numbered(kGgufVisionBlock, n, *g);
  if (split_numbered(hf_name, kHfDeepstack, &n, &rest)) {
    if (n >= static_cast<int64_t>(deepstack_indexes.size())) return std::nullopt;
    if (auto g = lookup(kDeepstack, rest, true))
      return numbered(kGgufDeepstack, deepstack_indexes[static_cast<size_t>(n)], *g);
  }
  return std::nullopt;
}

std::optional<std::string> qwen3vl_hf_name(const std::string& gguf_name,
                                           std::span<const int64_t> deepstack_indexes) {
  if (auto fixed = lookup(kFixed, gguf_name, false)) return std::string(*fixed);
  int64_t n = 0;
  std::string_view rest;
  if (split_numbered(gguf_name, kGgufTextLayer, &n, &rest))
    if (auto h = lookup(kTextLayer, rest, false)) return numbered(kHfTextLayer, n, *h);
  if (split_numbered(gguf_name, kGgufVisionBlock, &n, &rest))
    if (auto h = lookup(kVisionBlock, rest, false)) return numbered(kHfVisionBlock, n, *h);
  if (split_numbered(gguf_name, kGgufDeepstack, &n, &rest)) {
    for (size_t k = 0; k < deepstack_indexes.size(); ++k)
      if (deepstack_indexes[k] == n)
        if (auto h = lookup(kDeepstack, rest, false))
          return numbered(kHfDeepstack, static_cast<int64_t>(k), *h);
  }
  return std::nullopt;
}

Qwen3vlGgufFile qwen3vl_gguf_file(const std::string& gguf_name) {
  const std::string_view name = gguf_name;
  return name.starts_with("v.") || name.starts_with("mm.") ? Qwen3vlGgufFile::kMmproj
                                                           : Qwen3vlGgufFile::kText;
}

DType qwen3vl_gguf_storage_dtype(const std::string& gguf_name, int rank, DType weights) {
  const std::string_view name = gguf_name;
  if (name == "v.patch_embd.weight" || name == "v.patch_embd.weight.1")
    return weights == DType::kF16 ? DType::kF16 : DType::kF32;
  if (rank <= 1 || !name.ends_with(".weight") || name.ends_with("_norm.weight") ||
      name == "v.position_embd.weight")
    return DType::kF32;
  return weights;
}

}  // namespace kantu

