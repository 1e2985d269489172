// Qwen2-VL / Qwen2.5-VL checkpoints: the released configs (Qwen/Qwen2.5-VL-3B-Instruct,
// -7B-Instruct, Qwen/Qwen2-VL-2B-Instruct), the tensor list of a config and the released
// preprocessor / generation configs.
#include "models/qwen2vl/checkpoint.h"

#include <algorithm>

#include "core/error.h"
#include "formats/model_family.h"

namespace kantu::models::qwen2vl {

namespace {

// Qwen2.5-VL rather than Qwen2-VL, as the registry identifies the config (model_type,
// else architectures).
bool is_v25(const Json& config) {
  return model_family_from_config(config, "config.json") == ModelFamily::kQwen25VL;
}

struct Shape {
  const char* name;
  bool v25;
  // text
  int hidden, intermediate, layers, heads, kv_heads, vocab, max_positions, max_window_layers;
  bool tie;
  // vision (Qwen2-VL: embed_dim and mlp_ratio 4; Qwen2.5-VL: hidden and intermediate)
  int v_width, v_intermediate, v_depth, v_heads;
  std::vector<int> fullatt;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {"qwen2.5-vl-3b", true, 2048, 11008, 36, 16, 2, 151936, 128000, 70, true, 1280, 3420, 32,
       16, {7, 15, 23, 31}},
      {"qwen2.5-vl-7b", true, 3584, 18944, 28, 28, 4, 152064, 128000, 28, false, 1280, 3420, 32,
       16, {7, 15, 23, 31}},
      {"qwen2-vl-2b", false, 1536, 8960, 28, 12, 2, 151936, 32768, 28, true, 1280, 0, 32, 16, {}},
      // A few MB (the real 151936-row embedding dominates), for tests.
      {"qwen2.5-vl-tiny", true, 64, 128, 2, 4, 2, 151936, 128000, 70, true, 64, 96, 4, 4, {1, 3}},
      {"qwen2-vl-tiny", false, 64, 128, 2, 4, 2, 151936, 32768, 28, true, 64, 0, 3, 4, {}},
  };
  return all;
}

Json config_from(const Shape& s) {
  const int head_dim = s.hidden / s.heads;
  // The released sections [16, 24, 24] for head_dim 128, scaled for other sizes.
  const int t = head_dim / 2 / 4, hw = (head_dim / 2 - t) / 2;
  const std::vector<int> section = {head_dim / 2 - 2 * hw, hw, hw};
  Json vision;
  if (s.v25) {
    vision = {{"depth", s.v_depth}, {"hidden_act", "silu"}, {"hidden_size", s.v_width},
              {"intermediate_size", s.v_intermediate}, {"num_heads", s.v_heads},
              {"in_chans", 3}, {"out_hidden_size", s.hidden}, {"patch_size", 14},
              {"spatial_merge_size", 2}, {"spatial_patch_size", 14}, {"window_size", 112},
              {"fullatt_block_indexes", s.fullatt}, {"tokens_per_second", 2},
              {"temporal_patch_size", 2}};
  } else {
    vision = {{"depth", s.v_depth}, {"embed_dim", s.v_width}, {"mlp_ratio", 4},
              {"num_heads", s.v_heads}, {"in_chans", 3}, {"hidden_size", s.hidden},
              {"patch_size", 14}, {"spatial_merge_size", 2}, {"spatial_patch_size", 14},
              {"temporal_patch_size", 2}};
  }
  return Json{
      {"architectures", {s.v25 ? "Qwen2_5_VLForConditionalGeneration" : "Qwen2VLForConditionalGeneration"}},
      {"attention_dropout", 0.0},
      {"bos_token_id", 151643},
      {"eos_token_id", 151645},
      {"vision_start_token_id", 151652},
      {"vision_end_token_id", 151653},
      {"vision_token_id", 151654},
      {"image_token_id", 151655},
      {"video_token_id", 151656},
      {"hidden_act", "silu"},
      {"hidden_size", s.hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", s.intermediate},
      {"max_position_embeddings", s.max_positions},
      {"max_window_layers", s.max_window_layers},
      {"model_type", s.v25 ? "qwen2_5_vl" : "qwen2_vl"},
      {"num_attention_heads", s.heads},
      {"num_hidden_layers", s.layers},
      {"num_key_value_heads", s.kv_heads},
      {"rms_norm_eps", 1e-06},
      {"rope_theta", 1000000.0},
      {"sliding_window", 32768},
      {"tie_word_embeddings", s.tie},
      {"torch_dtype", "bfloat16"},
      {"transformers_version", "4.41.2"},
      {"use_cache", true},
      {"use_sliding_window", false},
      {"vision_config", vision},
      {"rope_scaling", {{"type", "mrope"}, {"mrope_section", section}}},
      {"vocab_size", s.vocab},
  };
}

}  // namespace

std::vector<KnownConfig> known_configs() {
  std::vector<KnownConfig> out;
  for (const Shape& s : shapes()) out.push_back({s.name, config_from(s)});
  return out;
}

std::vector<CheckpointTensor> checkpoint_tensors(const Json& config) {
  if (!config.is_object() || !config.contains("vision_config"))
    fail(ErrorKind::kInvalidArgument, "config.json: needs a vision_config object");
  const bool v25 = is_v25(config);
  const Json& t = config.contains("text_config") ? config["text_config"] : config;
  const char* ts = config.contains("text_config") ? "text_config" : "the top level";
  const Json& v = config["vision_config"];
  const int64_t hidden = config_positive(t, ts, "hidden_size");
  const int64_t inter = config_positive(t, ts, "intermediate_size");
  const int64_t layers = config_positive(t, ts, "num_hidden_layers");
  const int64_t heads = config_positive(t, ts, "num_attention_heads");
  const int64_t kv = config_positive(t, ts, "num_key_value_heads");
  const int64_t vocab = config_positive(t, ts, "vocab_size");
  if (hidden % heads != 0)
    fail(ErrorKind::kInvalidArgument, "config.json: hidden_size must be divisible by num_attention_heads");
  const int64_t head_dim = hidden / heads;
  const int64_t depth = config_positive(v, "vision_config", "depth");
  const int64_t patch = config_positive(v, "vision_config", "patch_size");
  const int64_t temporal = config_positive(v, "vision_config", "temporal_patch_size");
  const int64_t merge = config_positive(v, "vision_config", "spatial_merge_size");
  const int64_t width = config_positive(v, "vision_config", v25 ? "hidden_size" : "embed_dim");
  const int64_t out = config_positive(v, "vision_config", v25 ? "out_hidden_size" : "hidden_size");
  const int64_t vi = v25 ? config_positive(v, "vision_config", "intermediate_size")
                         : width * config_positive(v, "vision_config", "mlp_ratio");
  if (out != hidden)
    fail(ErrorKind::kInvalidArgument, "config.json: the vision merger's output (", out,
         ") must equal hidden_size (", hidden, ")");
  const bool tie = t.value("tie_word_embeddings", config.value("tie_word_embeddings", false));

  using Fill = CheckpointTensor::Fill;
  std::vector<CheckpointTensor> list;
  auto add = [&](std::string name, std::vector<int64_t> shape, Fill fill = Fill::kNormal) {
    list.push_back({std::move(name), std::move(shape), fill});
  };
  add("model.embed_tokens.weight", {vocab, hidden});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {hidden}, Fill::kOnes);
    add(p + "self_attn.q_proj.weight", {heads * head_dim, hidden});
    add(p + "self_attn.q_proj.bias", {heads * head_dim});
    add(p + "self_attn.k_proj.weight", {kv * head_dim, hidden});
    add(p + "self_attn.k_proj.bias", {kv * head_dim});
    add(p + "self_attn.v_proj.weight", {kv * head_dim, hidden});
    add(p + "self_attn.v_proj.bias", {kv * head_dim});
    add(p + "self_attn.o_proj.weight", {hidden, heads * head_dim});
    add(p + "post_attention_layernorm.weight", {hidden}, Fill::kOnes);
    add(p + "mlp.gate_proj.weight", {inter, hidden});
    add(p + "mlp.up_proj.weight", {inter, hidden});
    add(p + "mlp.down_proj.weight", {hidden, inter});
  }
  add("model.norm.weight", {hidden}, Fill::kOnes);
  if (!tie) add("lm_head.weight", {vocab, hidden});

  add("visual.patch_embed.proj.weight", {width, 3, temporal, patch, patch});
  for (int64_t i = 0; i < depth; ++i) {
    const std::string p = "visual.blocks." + std::to_string(i) + ".";
    add(p + "norm1.weight", {width}, Fill::kOnes);
    add(p + "norm2.weight", {width}, Fill::kOnes);
    if (!v25) {
      add(p + "norm1.bias", {width}, Fill::kZeros);
      add(p + "norm2.bias", {width}, Fill::kZeros);
    }
    add(p + "attn.qkv.weight", {3 * width, width});
    add(p + "attn.qkv.bias", {3 * width});
    add(p + "attn.proj.weight", {width, width});
    add(p + "attn.proj.bias", {width});
    if (v25) {
      for (const char* m : {"gate_proj", "up_proj"}) {
        add(p + "mlp." + m + ".weight", {vi, width});
        add(p + "mlp." + m + ".bias", {vi});
      }
      add(p + "mlp.down_proj.weight", {width, vi});
      add(p + "mlp.down_proj.bias", {width});
    } else {
      add(p + "mlp.fc1.weight", {vi, width});
      add(p + "mlp.fc1.bias", {vi});
      add(p + "mlp.fc2.weight", {width, vi});
      add(p + "mlp.fc2.bias", {width});
    }
  }
  const int64_t merged = width * merge * merge;
  add("visual.merger.ln_q.weight", {width}, Fill::kOnes);
  if (!v25) add("visual.merger.ln_q.bias", {width}, Fill::kZeros);
  add("visual.merger.mlp.0.weight", {merged, merged});
  add("visual.merger.mlp.0.bias", {merged});
  add("visual.merger.mlp.2.weight", {out, merged});
  add("visual.merger.mlp.2.bias", {out});
  std::sort(list.begin(), list.end(),
            [](const CheckpointTensor& a, const CheckpointTensor& b) { return a.name < b.name; });
  return list;
}

Json preprocessor_config(const Json& config) {
  const bool v25 = is_v25(config);
  return Json{{"min_pixels", 3136},
              {"max_pixels", 12845056},
              {"patch_size", 14},
              {"temporal_patch_size", 2},
              {"merge_size", 2},
              {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
              {"image_std", {0.26862954, 0.26130258, 0.27577711}},
              {"image_processor_type", "Qwen2VLImageProcessor"},
              {"processor_class", v25 ? "Qwen2_5_VLProcessor" : "Qwen2VLProcessor"}};
}

Json generation_config(const Json& config) {
  const bool v25 = is_v25(config);
  return Json{{"bos_token_id", 151643},     {"pad_token_id", 151643},
              {"do_sample", true},          {"eos_token_id", {151645, 151643}},
              {"repetition_penalty", v25 ? 1.05 : 1.0},
              {"temperature", v25 ? 0.1 : 0.01},
              {"top_p", 0.001},             {"top_k", 1},
              {"transformers_version", "4.37.0"}};
}

}  // namespace kantu::models::qwen2vl
