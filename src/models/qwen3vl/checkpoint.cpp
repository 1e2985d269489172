// Qwen3-VL checkpoints: the released configs (architecture sheet §1.1), the tensor
// list of a config, and the released preprocessor / generation configs.
#include "models/qwen3vl/checkpoint.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::models::qwen3vl {

namespace {

struct Shape {
  const char* name;
  // text
  int hidden, intermediate, layers, heads, kv_heads, head_dim;
  std::vector<int> mrope_section;
  bool tie;
  // vision
  int v_hidden, v_intermediate, v_depth, v_heads, v_positions;
  std::vector<int> deepstack;
};

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {"qwen3-vl-2b", 2048, 6144, 28, 16, 8, 128, {24, 20, 20}, true, 1024, 4096, 24, 16, 2304,
       {5, 11, 17}},
      {"qwen3-vl-4b", 2560, 9728, 36, 32, 8, 128, {24, 20, 20}, true, 1024, 4096, 24, 16, 2304,
       {5, 11, 17}},
      {"qwen3-vl-8b", 4096, 12288, 36, 32, 8, 128, {24, 20, 20}, false, 1152, 4304, 27, 16, 2304,
       {8, 16, 24}},
      // A few MB (the real 151936-row embedding dominates), for tests.
      {"tiny", 64, 128, 2, 4, 2, 32, {6, 5, 5}, true, 64, 128, 3, 4, 64, {1, 2}},
  };
  return all;
}

Json config_from(const Shape& s) {
  Json text = {
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"bos_token_id", 151643},
      {"dtype", "bfloat16"},
      {"eos_token_id", 151645},
      {"head_dim", s.head_dim},
      {"hidden_act", "silu"},
      {"hidden_size", s.hidden},
      {"initializer_range", 0.02},
      {"intermediate_size", s.intermediate},
      {"max_position_embeddings", 262144},
      {"model_type", "qwen3_vl_text"},
      {"num_attention_heads", s.heads},
      {"num_hidden_layers", s.layers},
      {"num_key_value_heads", s.kv_heads},
      {"rms_norm_eps", 1e-06},
      {"rope_scaling",
       {{"mrope_interleaved", true}, {"mrope_section", s.mrope_section}, {"rope_type", "default"}}},
      {"rope_theta", 5000000},
      {"tie_word_embeddings", s.tie},
      {"use_cache", true},
      {"vocab_size", 151936},
  };
  Json vision = {
      {"deepstack_visual_indexes", s.deepstack},
      {"depth", s.v_depth},
      {"hidden_act", "gelu_pytorch_tanh"},
      {"hidden_size", s.v_hidden},
      {"in_channels", 3},
      {"initializer_range", 0.02},
      {"intermediate_size", s.v_intermediate},
      {"model_type", "qwen3_vl"},
      {"num_heads", s.v_heads},
      {"num_position_embeddings", s.v_positions},
      {"out_hidden_size", s.hidden},
      {"patch_size", 16},
      {"spatial_merge_size", 2},
      {"temporal_patch_size", 2},
  };
  return Json{
      {"architectures", {"Qwen3VLForConditionalGeneration"}},
      {"dtype", "bfloat16"},
      {"image_token_id", 151655},
      {"model_type", "qwen3_vl"},
      {"text_config", text},
      {"tie_word_embeddings", s.tie},
      {"transformers_version", "4.57.0.dev0"},
      {"video_token_id", 151656},
      {"vision_config", vision},
      {"vision_end_token_id", 151653},
      {"vision_start_token_id", 151652},
  };
}

}  // namespace

std::vector<KnownConfig> known_configs() {
  std::vector<KnownConfig> out;
  for (const Shape& s : shapes()) out.push_back({s.name, config_from(s)});
  return out;
}

std::vector<CheckpointTensor> checkpoint_tensors(const Json& config) {
  if (!config.is_object() || !config.contains("text_config") || !config.contains("vision_config"))
    fail(ErrorKind::kInvalidArgument, "config.json: needs text_config and vision_config objects");
  const Json& t = config["text_config"];
  const Json& v = config["vision_config"];
  const int64_t hidden = config_positive(t, "text_config", "hidden_size");
  const int64_t inter = config_positive(t, "text_config", "intermediate_size");
  const int64_t layers = config_positive(t, "text_config", "num_hidden_layers");
  const int64_t heads = config_positive(t, "text_config", "num_attention_heads");
  const int64_t kv = config_positive(t, "text_config", "num_key_value_heads");
  const int64_t head_dim = config_positive(t, "text_config", "head_dim");
  const int64_t vocab = config_positive(t, "text_config", "vocab_size");
  const int64_t vh = config_positive(v, "vision_config", "hidden_size");
  const int64_t vi = config_positive(v, "vision_config", "intermediate_size");
  const int64_t depth = config_positive(v, "vision_config", "depth");
  const int64_t out = config_positive(v, "vision_config", "out_hidden_size");
  const int64_t positions = config_positive(v, "vision_config", "num_position_embeddings");
  const int64_t patch = config_positive(v, "vision_config", "patch_size");
  const int64_t temporal = config_positive(v, "vision_config", "temporal_patch_size");
  const int64_t merge = config_positive(v, "vision_config", "spatial_merge_size");
  const int64_t channels = v.value("in_channels", 3);
  if (out != hidden)
    fail(ErrorKind::kInvalidArgument, "config.json: vision_config.out_hidden_size (", out,
         ") must equal text_config.hidden_size (", hidden, ")");
  size_t n_deepstack = 0;
  if (v.contains("deepstack_visual_indexes")) {
    const Json& ds = v["deepstack_visual_indexes"];
    if (!ds.is_array())
      fail(ErrorKind::kInvalidArgument, "config.json: deepstack_visual_indexes must be a list");
    for (const Json& i : ds)
      if (!i.is_number_integer() || i.get<int64_t>() < 0 || i.get<int64_t>() >= depth)
        fail(ErrorKind::kInvalidArgument,
             "config.json: deepstack_visual_indexes entries must be vision block indexes < ", depth);
    n_deepstack = ds.size();
  }
  const bool tie = config.value("tie_word_embeddings", t.value("tie_word_embeddings", false));

  using Fill = CheckpointTensor::Fill;
  std::vector<CheckpointTensor> list;
  auto add = [&](std::string name, std::vector<int64_t> shape, Fill fill = Fill::kNormal) {
    list.push_back({std::move(name), std::move(shape), fill});
  };
  const std::string lm = "model.language_model.";
  add(lm + "embed_tokens.weight", {vocab, hidden});
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = lm + "layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {hidden}, Fill::kOnes);
    add(p + "self_attn.q_proj.weight", {heads * head_dim, hidden});
    add(p + "self_attn.k_proj.weight", {kv * head_dim, hidden});
    add(p + "self_attn.v_proj.weight", {kv * head_dim, hidden});
    add(p + "self_attn.o_proj.weight", {hidden, heads * head_dim});
    add(p + "self_attn.q_norm.weight", {head_dim}, Fill::kOnes);
    add(p + "self_attn.k_norm.weight", {head_dim}, Fill::kOnes);
    add(p + "post_attention_layernorm.weight", {hidden}, Fill::kOnes);
    add(p + "mlp.gate_proj.weight", {inter, hidden});
    add(p + "mlp.up_proj.weight", {inter, hidden});
    add(p + "mlp.down_proj.weight", {hidden, inter});
  }
  add(lm + "norm.weight", {hidden}, Fill::kOnes);
  if (!tie) add("lm_head.weight", {vocab, hidden});

  const std::string vis = "model.visual.";
  add(vis + "patch_embed.proj.weight", {vh, channels, temporal, patch, patch});
  add(vis + "patch_embed.proj.bias", {vh});
  add(vis + "pos_embed.weight", {positions, vh});
  for (int64_t i = 0; i < depth; ++i) {
    const std::string p = vis + "blocks." + std::to_string(i) + ".";
    add(p + "norm1.weight", {vh}, Fill::kOnes);
    add(p + "norm1.bias", {vh}, Fill::kZeros);
    add(p + "attn.qkv.weight", {3 * vh, vh});
    add(p + "attn.qkv.bias", {3 * vh});
    add(p + "attn.proj.weight", {vh, vh});
    add(p + "attn.proj.bias", {vh});
    add(p + "norm2.weight", {vh}, Fill::kOnes);
    add(p + "norm2.bias", {vh}, Fill::kZeros);
    add(p + "mlp.linear_fc1.weight", {vi, vh});
    add(p + "mlp.linear_fc1.bias", {vi});
    add(p + "mlp.linear_fc2.weight", {vh, vi});
    add(p + "mlp.linear_fc2.bias", {vh});
  }
  const int64_t merged = vh * merge * merge;
  auto add_merger = [&](const std::string& p, int64_t norm_dim) {
    add(p + "norm.weight", {norm_dim}, Fill::kOnes);
    add(p + "norm.bias", {norm_dim}, Fill::kZeros);
    add(p + "linear_fc1.weight", {merged, merged});
    add(p + "linear_fc1.bias", {merged});
    add(p + "linear_fc2.weight", {out, merged});
    add(p + "linear_fc2.bias", {out});
  };
  add_merger(vis + "merger.", vh);  // norm before the 2x2 shuffle
  for (size_t k = 0; k < n_deepstack; ++k)
    add_merger(vis + "deepstack_merger_list." + std::to_string(k) + ".", merged);  // after it
  std::sort(list.begin(), list.end(),
            [](const CheckpointTensor& a, const CheckpointTensor& b) { return a.name < b.name; });
  return list;
}

Json preprocessor_config(const Json& config) {
  const Json& v = config.at("vision_config");
  return Json{{"size", {{"longest_edge", 16777216}, {"shortest_edge", 65536}}},
              {"patch_size", v.value("patch_size", 16)},
              {"temporal_patch_size", v.value("temporal_patch_size", 2)},
              {"merge_size", v.value("spatial_merge_size", 2)},
              {"image_mean", {0.5, 0.5, 0.5}},
              {"image_std", {0.5, 0.5, 0.5}},
              {"processor_class", "Qwen3VLProcessor"},
              {"image_processor_type", "Qwen2VLImageProcessorFast"}};
}

Json generation_config(const Json& /*config*/) {
  return Json{{"bos_token_id", 151643}, {"pad_token_id", 151643}, {"do_sample", true},
              {"eos_token_id", {151645, 151643}}, {"top_k", 20}, {"top_p", 0.8},
              {"repetition_penalty", 1.0}, {"temperature", 0.7},
              {"transformers_version", "4.57.0.dev0"}};
}

}  // namespace kantu::models::qwen3vl
