// kantu info -m DIR: validates a model folder and prints what it holds as JSON.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "core/json.h"
#include "formats/model_folder.h"
#include "formats/model_summary.h"
#include "models/model.h"

namespace kantu::cli {

namespace {

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Json text_json(const TextSizes& t) {
  return {{"hidden_size", t.hidden_size},
          {"num_hidden_layers", t.num_layers},
          {"num_attention_heads", t.num_heads},
          {"num_key_value_heads", t.num_kv_heads},
          {"head_dim", t.head_dim},
          {"intermediate_size", t.intermediate_size},
          {"vocab_size", t.vocab_size},
          {"max_position_embeddings", t.max_position_embeddings},
          {"tie_word_embeddings", t.tie_word_embeddings}};
}

Json vision_json(const VisionSizes& v) {
  Json j = {{"depth", v.depth},
            {"hidden_size", v.hidden_size},
            {"num_heads", v.num_heads},
            {"intermediate_size", v.intermediate_size},
            {"patch_size", v.patch_size},
            {"temporal_patch_size", v.temporal_patch_size},
            {"spatial_merge_size", v.spatial_merge_size},
            {"out_hidden_size", v.out_hidden_size},
            {"num_position_embeddings", v.num_position_embeddings},
            {"deepstack_visual_indexes", v.deepstack_visual_indexes}};
  if (v.window_size > 0) {
    j["window_size"] = v.window_size;
    j["fullatt_block_indexes"] = v.fullatt_block_indexes;
  }
  return j;
}

Json generation_json(const GenerationConfig& g) {
  Json j = {{"present", g.present},
            {"eos_token_ids", g.eos_token_ids},
            {"do_sample", g.do_sample},
            {"temperature", g.temperature},
            {"top_k", g.top_k},
            {"top_p", g.top_p},
            {"repetition_penalty", g.repetition_penalty}};
  if (g.bos_token_id) j["bos_token_id"] = *g.bos_token_id;
  if (g.pad_token_id) j["pad_token_id"] = *g.pad_token_id;
  if (g.max_new_tokens) j["max_new_tokens"] = *g.max_new_tokens;
  return j;
}

Json preprocessor_json(const ImagePreprocessConfig& p, bool present) {
  if (p.kind != ImageProcessorKind::kQwenPatches) {
    const ClipPreprocessorConfig& c = p.clip;
    Json j = {{"present", present},
              {"image_processor", p.kind == ImageProcessorKind::kLlavaNext ? "LlavaNextImageProcessor"
                                                                          : "CLIPImageProcessor"},
              {"crop_size", {c.crop_height, c.crop_width}},
              {"patch_size", p.tokens.patch_size},
              {"image_mean", c.image_mean},
              {"image_std", c.image_std}};
    if (c.size_height > 0) {
      j["size"] = {c.size_height, c.size_width};
    } else {
      j["shortest_edge"] = c.shortest_edge;
    }
    if (c.anyres()) j["image_grid_pinpoints"] = c.image_grid_pinpoints;
    return j;
  }
  return {{"present", present},
          {"min_pixels", p.min_pixels},
          {"max_pixels", p.max_pixels},
          {"patch_size", p.patch_size},
          {"temporal_patch_size", p.temporal_patch_size},
          {"merge_size", p.merge_size},
          {"image_mean", p.image_mean},
          {"image_std", p.image_std}};
}

Json tokenizer_json(const TokenizerFiles& t) {
  Json files = Json::array();
  for (const std::string* path :
       {&t.tokenizer_json, &t.vocab_json, &t.merges_txt, &t.tokenizer_config_json,
        &t.chat_template_json, &t.chat_template_jinja, &t.special_tokens_map_json,
        &t.added_tokens_json}) {
    if (!path->empty()) files.push_back(base_name(*path));
  }
  return {{"files", files}, {"has_vocabulary", t.has_vocabulary()}};
}

Json info_json(const ModelFolder& model) {
  Json out;
  out["model_dir"] = model.dir();
  out["family"] = model_family_name(model.family());
  out["model_type"] = model.model_type();
  out["architecture"] = model.architecture();
  out["text"] = text_json(read_text_sizes(model));
  if (auto vision = read_vision_sizes(model)) out["vision"] = vision_json(*vision);

  const WeightStats stats = weight_stats(model.weights());
  Json dtypes = Json::object();
  for (const auto& [name, d] : stats.dtypes) {
    dtypes[name] = {{"tensors", d.tensors}, {"parameters", d.parameters}, {"bytes", d.bytes}};
  }
  Json files = Json::array();
  for (const auto& f : stats.files) {
    files.push_back({{"name", base_name(f.path)}, {"bytes", f.file_bytes}, {"tensors", f.tensors}});
  }
  out["dtypes"] = dtypes;
  out["tensor_count"] = stats.tensor_count;
  out["parameter_count"] = stats.parameter_count;
  out["weight_bytes"] = stats.total_bytes;
  out["files"] = files;
  out["generation"] = generation_json(model.generation());
  out["preprocessor"] =
      preprocessor_json(models::profile_of(model).image, !model.preprocessor_json().is_null());
  if (const GgufFile* g = model.gguf_model()) {
    out["tokenizer"] = {{"files", Json::array({base_name(g->path())})},
                        {"has_vocabulary", g->has("tokenizer.ggml.tokens")}};
    out["format"] = "gguf";
    out["has_vision"] = model.has_vision();
  } else {
    out["tokenizer"] = tokenizer_json(model.tokenizer_files());
  }
  return out;
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "info", "Validate a model folder and print its family, sizes and weights as JSON");
  auto model_dir = std::make_shared<std::string>();
  auto mmproj = std::make_shared<std::string>();
  add_model_options(cmd, "-m,--model", model_dir.get(), mmproj.get(),
                    "Hugging Face model folder (config.json + safetensors) or GGUF model file")
      ->required();
  cmd->callback([model_dir, mmproj] {
    const ModelFolder model = ModelFolder::open_any(*model_dir, *mmproj, {});
    const std::string text = info_json(model).dump(2);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
  });
}

}  // namespace kantu::cli
