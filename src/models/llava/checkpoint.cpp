// LLaVA checkpoints: the released llava-hf configs (which list only what differs from the
// LlamaConfig / MistralConfig / CLIPVisionConfig defaults), the tensor list of any LLaVA
// config (sizes through formats/llava_config.h, so the defaults are the reader's), and the
// released preprocessor / generation configs.
#include "models/llava/checkpoint.h"

#include <algorithm>

#include "core/error.h"
#include "formats/llava_config.h"
#include "formats/model_family.h"

namespace kantu::models::llava {

namespace {

const Json kPinpoints = {{336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};

// CLIP ViT-L/14 at 336 px, as the released configs spell it.
Json clip_large() {
  return {{"hidden_size", 1024}, {"image_size", 336}, {"intermediate_size", 4096},
          {"model_type", "clip_vision_model"}, {"num_attention_heads", 16}, {"num_hidden_layers", 24},
          {"patch_size", 14}, {"projection_dim", 768}, {"vocab_size", 32000}};
}

Json vicuna_7b() {
  return {{"_name_or_path", "lmsys/vicuna-7b-v1.5"}, {"architectures", {"LlamaForCausalLM"}},
          {"max_position_embeddings", 4096}, {"model_type", "llama"}, {"rms_norm_eps", 1e-05},
          {"torch_dtype", "float16"}, {"vocab_size", 32064}};
}

Json mistral_7b() {
  return {{"_name_or_path", "mistralai/Mistral-7B-Instruct-v0.2"}, {"architectures", {"MistralForCausalLM"}},
          {"intermediate_size", 14336}, {"max_position_embeddings", 32768}, {"model_type", "mistral"},
          {"num_key_value_heads", 8}, {"rms_norm_eps", 1e-05}, {"rope_theta", 1000000.0},
          {"sliding_window", nullptr}, {"torch_dtype", "bfloat16"}, {"vocab_size", 32064}};
}

Json llava_config(bool next, Json text, Json vision) {
  Json c = {{"architectures", {next ? "LlavaNextForConditionalGeneration" : "LlavaForConditionalGeneration"}},
            {"ignore_index", -100},
            {"image_token_index", 32000},
            {"model_type", next ? "llava_next" : "llava"},
            {"projector_hidden_act", "gelu"},
            {"text_config", std::move(text)},
            {"torch_dtype", "float16"},
            {"vision_config", std::move(vision)},
            {"vision_feature_layer", -2},
            {"vision_feature_select_strategy", "default"},
            {"vocab_size", 32064}};
  if (next) {
    c["image_grid_pinpoints"] = kPinpoints;
    c["use_image_newline_parameter"] = true;
  } else {
    c["pad_token_id"] = 32001;
    c["tie_word_embeddings"] = false;
  }
  return c;
}

// Test size: the tiny goldens' shapes (a 64-wide Llama over the 32064-token vocabulary, a
// 3-layer CLIP of width 32 at 336 px), a few MB.
Json tiny_text() {
  return {{"hidden_size", 64}, {"intermediate_size", 128}, {"max_position_embeddings", 4096},
          {"model_type", "llama"}, {"num_attention_heads", 4}, {"num_hidden_layers", 2},
          {"rms_norm_eps", 1e-05}, {"vocab_size", 32064}};
}
Json tiny_vision() {
  return {{"hidden_size", 32}, {"image_size", 336}, {"intermediate_size", 64},
          {"model_type", "clip_vision_model"}, {"num_attention_heads", 2}, {"num_hidden_layers", 3},
          {"patch_size", 14}, {"projection_dim", 16}};
}

}  // namespace

std::vector<KnownConfig> known_configs() {
  return {{"llava-1.5-7b", llava_config(false, vicuna_7b(), clip_large())},
          {"llava-next-vicuna-7b", llava_config(true, vicuna_7b(), clip_large())},
          {"llava-next-mistral-7b", llava_config(true, mistral_7b(), clip_large())},
          {"llava-1.5-tiny", llava_config(false, tiny_text(), tiny_vision())},
          {"llava-next-tiny", llava_config(true, tiny_text(), tiny_vision())}};
}

std::vector<CheckpointTensor> checkpoint_tensors(const Json& config) {
  kantu::llava::Config c;
  try {
    c = kantu::llava::parse_config(config, "config.json");
  } catch (const Error& e) {
    fail(ErrorKind::kInvalidArgument, e.what());
  }
  const kantu::llava::TextConfig& t = c.text;
  const kantu::llava::VisionConfig& v = c.vision;
  using Fill = CheckpointTensor::Fill;
  std::vector<CheckpointTensor> list;
  auto add = [&](std::string name, std::vector<int64_t> shape, Fill fill = Fill::kNormal) {
    list.push_back({std::move(name), std::move(shape), fill});
  };
  const int64_t H = t.hidden_size, q_rows = t.num_heads * t.head_dim, kv_rows = t.num_kv_heads * t.head_dim;
  add("language_model.model.embed_tokens.weight", {t.vocab_size, H});
  for (int64_t i = 0; i < t.num_layers; ++i) {
    const std::string p = "language_model.model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", {H}, Fill::kOnes);
    add(p + "self_attn.q_proj.weight", {q_rows, H});
    add(p + "self_attn.k_proj.weight", {kv_rows, H});
    add(p + "self_attn.v_proj.weight", {kv_rows, H});
    add(p + "self_attn.o_proj.weight", {H, q_rows});
    if (t.attention_bias) {
      add(p + "self_attn.q_proj.bias", {q_rows});
      add(p + "self_attn.k_proj.bias", {kv_rows});
      add(p + "self_attn.v_proj.bias", {kv_rows});
      add(p + "self_attn.o_proj.bias", {H});
    }
    add(p + "post_attention_layernorm.weight", {H}, Fill::kOnes);
    add(p + "mlp.gate_proj.weight", {t.intermediate_size, H});
    add(p + "mlp.up_proj.weight", {t.intermediate_size, H});
    add(p + "mlp.down_proj.weight", {H, t.intermediate_size});
  }
  add("language_model.model.norm.weight", {H}, Fill::kOnes);
  if (!t.tie_word_embeddings) add("language_model.lm_head.weight", {t.vocab_size, H});

  const std::string vt = "vision_tower.vision_model.";
  const int64_t D = v.hidden_size;
  add(vt + "embeddings.class_embedding", {D});
  add(vt + "embeddings.patch_embedding.weight", {D, v.num_channels, v.patch_size, v.patch_size});
  add(vt + "embeddings.position_embedding.weight", {v.positions(), D});
  add(vt + "pre_layrnorm.weight", {D}, Fill::kOnes);
  add(vt + "pre_layrnorm.bias", {D}, Fill::kZeros);
  for (int64_t i = 0; i < v.num_layers; ++i) {
    const std::string p = vt + "encoder.layers." + std::to_string(i) + ".";
    for (const char* norm : {"layer_norm1", "layer_norm2"}) {
      add(p + norm + ".weight", {D}, Fill::kOnes);
      add(p + norm + ".bias", {D}, Fill::kZeros);
    }
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      add(p + "self_attn." + proj + ".weight", {D, D});
      add(p + "self_attn." + proj + ".bias", {D});
    }
    add(p + "mlp.fc1.weight", {v.intermediate_size, D});
    add(p + "mlp.fc1.bias", {v.intermediate_size});
    add(p + "mlp.fc2.weight", {D, v.intermediate_size});
    add(p + "mlp.fc2.bias", {D});
  }
  add(vt + "post_layernorm.weight", {D}, Fill::kOnes);
  add(vt + "post_layernorm.bias", {D}, Fill::kZeros);
  add("multi_modal_projector.linear_1.weight", {H, c.projector_in()});
  add("multi_modal_projector.linear_2.weight", {H, H});
  if (c.projector_bias) {
    add("multi_modal_projector.linear_1.bias", {H});
    add("multi_modal_projector.linear_2.bias", {H});
  }
  if (c.next) add("image_newline", {H});
  std::sort(list.begin(), list.end(),
            [](const CheckpointTensor& a, const CheckpointTensor& b) { return a.name < b.name; });
  return list;
}

Json preprocessor_config(const Json& config) {
  const bool next = model_family_from_config(config, "config.json") == ModelFamily::kLlavaNext;
  const int64_t size = config.contains("vision_config") ? config["vision_config"].value("image_size", 336) : 336;
  Json p = {{"crop_size", {{"height", size}, {"width", size}}},
            {"do_center_crop", true},
            {"do_convert_rgb", true},
            {"do_normalize", true},
            {"do_rescale", true},
            {"do_resize", true},
            {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
            {"image_processor_type", next ? "LlavaNextImageProcessor" : "CLIPImageProcessor"},
            {"image_std", {0.26862954, 0.26130258, 0.27577711}},
            {"processor_class", next ? "LlavaNextProcessor" : "LlavaProcessor"},
            {"resample", 3},
            {"rescale_factor", 0.00392156862745098},
            {"size", {{"shortest_edge", size}}}};
  if (next) {
    p["aspect_ratio_setting"] = "anyres";
    p["do_pad"] = true;
    p["image_grid_pinpoints"] = config.value("image_grid_pinpoints", kPinpoints);
  }
  return p;
}

Json generation_config(const Json& config) {
  const bool v15 = model_family_from_config(config, "config.json") == ModelFamily::kLlava;
  Json g = {{"bos_token_id", 1}, {"eos_token_id", 2}};
  if (v15) g["pad_token_id"] = 32001;
  return g;
}

}  // namespace kantu::models::llava
