#include "formats/gguf_config.h"

#include <algorithm>

#include "core/error.h"
#include "formats/gguf_llava_config.h"
#include "formats/preprocessor_config.h"

namespace kantu {

namespace {

std::string arch_of(const GgufFile& f) {
  return f.has("general.architecture") ? f.string("general.architecture") : std::string("?");
}

// The id of an added token such as "<|image_pad|>" in tokenizer.ggml.tokens.
int64_t token_id(const GgufFile& f, std::string_view token) {
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == token) return static_cast<int64_t>(i);
  }
  fail(ErrorKind::kCorrupt, f.path(), ": tokenizer.ggml.tokens has no ", token,
       " token (a Qwen-VL vocabulary has it)");
}

bool is_text_arch(const std::string& arch) {
  return arch == "qwen3vl" || arch == "qwen2vl" || arch == "llama";
}

// The family of the pair, after checking the two files' kinds: text architecture
// "qwen3vl" with projector "qwen3vl_merger", "qwen2vl" with "qwen2vl_merger" or
// "qwen2.5vl_merger" (also spelled "qwen25vl_merger"), "llama" with LLaVA's "mlp".
ModelFamily family_of(const GgufFile& text, const GgufFile* mmproj) {
  const std::string arch = arch_of(text);
  if (arch == "clip") {
    fail(ErrorKind::kInvalidArgument, text.path(),
         " is a vision projector (mmproj) file; pass it with --mmproj and the text model with -m");
  }
  if (!is_text_arch(arch)) {
    fail(ErrorKind::kUnsupported, text.path(), ": general.architecture is \"", arch,
         "\"; kantu runs the GGUF files of Qwen-VL (\"qwen3vl\", \"qwen2vl\") and LLaVA (\"llama\")");
  }
  if (!mmproj) {
    return arch == "qwen3vl" ? ModelFamily::kQwen3VL : arch == "qwen2vl" ? ModelFamily::kQwen2VL : ModelFamily::kLlava;
  }
  const std::string m_arch = arch_of(*mmproj);
  if (is_text_arch(m_arch)) {
    fail(ErrorKind::kInvalidArgument, mmproj->path(),
         " is a text model file, not a vision projector (mmproj)");
  }
  if (m_arch != "clip") {
    fail(ErrorKind::kUnsupported, mmproj->path(), ": general.architecture is \"", m_arch,
         "\"; an mmproj file has \"clip\"");
  }
  if (mmproj->has("clip.has_vision_encoder") && !mmproj->boolean("clip.has_vision_encoder")) {
    fail(ErrorKind::kUnsupported, mmproj->path(), ": clip.has_vision_encoder is false");
  }
  const std::string projector = mmproj->has("clip.projector_type") ? mmproj->string("clip.projector_type") : "mlp";
  struct Pairing {
    const char* projector;
    const char* arch;
    ModelFamily family;
  };
  static constexpr Pairing kPairings[] = {
      {"qwen3vl_merger", "qwen3vl", ModelFamily::kQwen3VL},
      {"qwen2vl_merger", "qwen2vl", ModelFamily::kQwen2VL},
      {"qwen2.5vl_merger", "qwen2vl", ModelFamily::kQwen25VL},
      {"qwen25vl_merger", "qwen2vl", ModelFamily::kQwen25VL},
      {"mlp", "llama", ModelFamily::kLlava},
  };
  for (const Pairing& p : kPairings) {
    if (projector != p.projector) continue;
    if (arch != p.arch) {
      fail(ErrorKind::kInvalidArgument, mmproj->path(), " (", projector,
           ") is not the vision projector of ", text.path(), " (", arch, ")");
    }
    return p.family == ModelFamily::kLlava ? gguf_llava_family(*mmproj) : p.family;
  }
  fail(ErrorKind::kUnsupported, mmproj->path(), ": clip.projector_type is \"", projector,
       "\"; kantu handles qwen3vl_merger, qwen2vl_merger, qwen2.5vl_merger and mlp (LLaVA)");
}

std::vector<int64_t> deepstack_indexes(const GgufFile& mmproj) {
  std::vector<int64_t> out;
  if (!mmproj.has("clip.vision.is_deepstack_layers")) return out;
  const std::vector<bool> flags = mmproj.booleans("clip.vision.is_deepstack_layers");
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i]) out.push_back(static_cast<int64_t>(i));
  }
  return out;
}

}  // namespace

Json gguf_text_keys(const GgufFile& f, const std::string& arch) {
  const std::string a = arch + ".";
  const TensorView& embed = f.tensor("token_embd.weight");
  if (embed.shape.size() != 2) {
    fail(ErrorKind::kCorrupt, f.path(), ": token_embd.weight has shape ", shape_string(embed.shape),
         ", expected [vocab, hidden]");
  }
  Json t = Json::object();
  t["hidden_size"] = f.integer(a + "embedding_length");
  t["intermediate_size"] = f.integer(a + "feed_forward_length");
  t["num_hidden_layers"] = f.integer(a + "block_count");
  t["num_attention_heads"] = f.integer(a + "attention.head_count");
  t["num_key_value_heads"] = f.has(a + "attention.head_count_kv")
                                 ? f.integer(a + "attention.head_count_kv")
                                 : f.integer(a + "attention.head_count");
  if (f.has(a + "attention.key_length")) t["head_dim"] = f.integer(a + "attention.key_length");
  t["vocab_size"] = embed.shape[0];
  t["max_position_embeddings"] = f.integer(a + "context_length");
  t["rms_norm_eps"] = f.number(a + "attention.layer_norm_rms_epsilon");
  t["hidden_act"] = "silu";
  t["rope_theta"] = f.has(a + "rope.freq_base") ? f.number(a + "rope.freq_base") : 10000.0;
  if (f.has("tokenizer.ggml.bos_token_id")) t["bos_token_id"] = f.integer("tokenizer.ggml.bos_token_id");
  if (f.has("tokenizer.ggml.eos_token_id")) t["eos_token_id"] = f.integer("tokenizer.ggml.eos_token_id");
  return t;
}

namespace {

// The Qwen-VL text keys: the common ones and the M-RoPE sections.
Json text_keys(const GgufFile& f, const std::string& arch) {
  const std::string a = arch + ".";
  Json t = gguf_text_keys(f, arch);
  std::vector<int64_t> sections = f.integers(a + "rope.dimension_sections");
  // llama.cpp stores four sections (T, H, W, unused); the models use the first three.
  if (sections.size() < 3 || (sections.size() == 4 && sections[3] != 0) || sections.size() > 4) {
    fail(ErrorKind::kCorrupt, f.path(), ": ", a, "rope.dimension_sections must be [T, H, W, 0]");
  }
  sections.resize(3);
  t["mrope_section"] = sections;
  return t;
}

// The rows of a vision tensor (the MLP width, which the converter does not write reliably).
int64_t rows_of(const GgufFile& m, const std::string& name) {
  const TensorView& t = m.tensor(name);
  if (t.shape.size() != 2) fail(ErrorKind::kCorrupt, m.path(), ": ", name, " is not a matrix");
  return t.shape[0];
}

Json qwen3vl_config(const GgufFile& text, const GgufFile* mm) {
  Json t = text_keys(text, "qwen3vl");
  t["model_type"] = "qwen3_vl_text";
  t["rope_scaling"] = {{"rope_type", "default"}, {"mrope_section", t["mrope_section"]},
                       {"mrope_interleaved", true}};
  t.erase("mrope_section");
  Json config = {{"model_type", "qwen3_vl"},
                 {"architectures", Json::array({"Qwen3VLForConditionalGeneration"})},
                 {"text_config", t}};
  if (mm) {
    const TensorView& pos = mm->tensor("v.position_embd.weight");
    const TensorView& patch = mm->tensor("v.patch_embd.weight");
    if (pos.shape.size() != 2 || patch.shape.size() != 4) {
      fail(ErrorKind::kCorrupt, mm->path(), ": v.position_embd.weight ", shape_string(pos.shape),
           " / v.patch_embd.weight ", shape_string(patch.shape),
           " should be [positions, hidden] / [hidden, channels, patch, patch]");
    }
    Json v = Json::object();
    v["model_type"] = "qwen3_vl";
    v["hidden_size"] = mm->integer("clip.vision.embedding_length");
    v["intermediate_size"] = mm->integer("clip.vision.feed_forward_length");
    v["depth"] = mm->integer("clip.vision.block_count");
    v["num_heads"] = mm->integer("clip.vision.attention.head_count");
    v["patch_size"] = mm->integer("clip.vision.patch_size");
    v["in_channels"] = patch.shape[1];
    v["temporal_patch_size"] = 2;  // the kernel comes as two Conv2d halves
    v["spatial_merge_size"] =
        mm->has("clip.vision.spatial_merge_size") ? mm->integer("clip.vision.spatial_merge_size") : 2;
    v["out_hidden_size"] = mm->has("clip.vision.projection_dim")
                               ? mm->integer("clip.vision.projection_dim")
                               : t.at("hidden_size").get<int64_t>();
    v["num_position_embeddings"] = pos.shape[0];
    // clip.use_gelu is ggml's tanh-approximated GELU, Qwen3-VL's gelu_pytorch_tanh.
    v["hidden_act"] = mm->has("clip.use_silu") && mm->boolean("clip.use_silu") ? "silu" : "gelu_pytorch_tanh";
    v["deepstack_visual_indexes"] = deepstack_indexes(*mm);
    config["vision_config"] = v;
  }
  return config;
}

// Qwen2/2.5-VL: the official flat layout (text keys at the top level).
Json qwen2vl_config(const GgufFile& text, const GgufFile* mm, ModelFamily family) {
  Json config = text_keys(text, "qwen2vl");
  const int64_t hidden = config.at("hidden_size").get<int64_t>();
  const int64_t heads = config.at("num_attention_heads").get<int64_t>();
  if (config.contains("head_dim") && config["head_dim"].get<int64_t>() * heads != hidden) {
    fail(ErrorKind::kUnsupported, text.path(), ": qwen2vl.attention.key_length ",
         config["head_dim"].get<int64_t>(), " is not hidden_size / head_count as Qwen2-VL's is");
  }
  config.erase("head_dim");
  config["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", config["mrope_section"]}};
  config.erase("mrope_section");
  const bool v25 = family == ModelFamily::kQwen25VL;
  config["model_type"] = v25 ? "qwen2_5_vl" : "qwen2_vl";
  config["architectures"] = Json::array(
      {v25 ? "Qwen2_5_VLForConditionalGeneration" : "Qwen2VLForConditionalGeneration"});
  if (!mm) return config;
  Json v = Json::object();
  const int64_t width = mm->integer("clip.vision.embedding_length");
  const int64_t out = mm->has("clip.vision.projection_dim") ? mm->integer("clip.vision.projection_dim") : hidden;
  const int64_t depth = mm->integer("clip.vision.block_count");
  const int64_t inner = rows_of(*mm, "v.blk.0.ffn_up.weight");
  v["depth"] = depth;
  v["num_heads"] = mm->integer("clip.vision.attention.head_count");
  v["patch_size"] = mm->integer("clip.vision.patch_size");
  v["temporal_patch_size"] = 2;  // the kernel comes as two Conv2d halves
  v["spatial_merge_size"] =
      mm->has("clip.vision.spatial_merge_size") ? mm->integer("clip.vision.spatial_merge_size") : 2;
  if (v25) {
    v["hidden_size"] = width;
    v["intermediate_size"] = inner;
    v["out_hidden_size"] = out;
    v["hidden_act"] = "silu";
    v["window_size"] = mm->has("clip.vision.window_size") ? mm->integer("clip.vision.window_size") : 112;
    // llama.cpp keeps full attention in blocks (i + 1) % n_wa_pattern == 0.
    const int64_t pattern = mm->integer("clip.vision.n_wa_pattern");
    if (pattern <= 0) fail(ErrorKind::kCorrupt, mm->path(), ": clip.vision.n_wa_pattern must be positive");
    std::vector<int64_t> full;
    for (int64_t i = pattern - 1; i < depth; i += pattern) full.push_back(i);
    v["fullatt_block_indexes"] = full;
    v["tokens_per_second"] = 2;  // the released configs' value (not in the GGUF)
  } else {
    v["embed_dim"] = width;
    v["hidden_size"] = out;
    v["mlp_ratio"] = static_cast<double>(inner) / static_cast<double>(width);
    v["hidden_act"] = "quick_gelu";
  }
  config["vision_config"] = v;
  return config;
}

// The mmproj's image settings in preprocessor_config.json's keys (the family fills in
// its processor defaults for the rest).
Json preprocessor_of(const GgufFile& m, ModelFamily family) {
  Json p = Json::object();
  // As the official preprocessor_config.json files: Qwen3-VL names the fast processor,
  // Qwen2/2.5-VL the slow one, with min/max pixels 3136 / 12845056.
  const bool qwen3 = family == ModelFamily::kQwen3VL;
  p["image_processor_type"] = qwen3 ? "Qwen2VLImageProcessorFast" : "Qwen2VLImageProcessor";
  if (!qwen3) {
    p["min_pixels"] = 3136;
    p["max_pixels"] = 12845056;
  }
  p["patch_size"] = m.integer("clip.vision.patch_size");
  if (m.has("clip.vision.spatial_merge_size")) p["merge_size"] = m.integer("clip.vision.spatial_merge_size");
  for (const auto& [key, field] : {std::pair{"clip.vision.image_mean", "image_mean"},
                                   std::pair{"clip.vision.image_std", "image_std"}}) {
    if (!m.has(key)) continue;
    const std::vector<double> values = m.numbers(key);
    if (values.size() != 3) fail(ErrorKind::kCorrupt, m.path(), ": ", key, " must hold 3 numbers");
    p[field] = values;
  }
  if (m.has("clip.vision.image_min_pixels")) p["min_pixels"] = m.integer("clip.vision.image_min_pixels");
  if (m.has("clip.vision.image_max_pixels")) p["max_pixels"] = m.integer("clip.vision.image_max_pixels");
  parse_preprocessor_config(p, m.path());  // checks the values
  return p;
}

// Stop tokens: the file's eos, then the ChatML turn end and end of text, as llama.cpp
// treats them as end-of-generation; sampling defaults from general.sampling.* if present.
Json generation_of(const GgufFile& f) {
  Json g = Json::object();
  std::vector<int64_t> eos;
  auto add = [&](int64_t id) {
    if (std::find(eos.begin(), eos.end(), id) == eos.end()) eos.push_back(id);
  };
  if (f.has("tokenizer.ggml.eos_token_id")) add(f.integer("tokenizer.ggml.eos_token_id"));
  const auto& tokens = f.strings("tokenizer.ggml.tokens");
  for (std::string_view t : {"<|im_end|>", "<|endoftext|>"}) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] == t) add(static_cast<int64_t>(i));
    }
  }
  if (!eos.empty()) g["eos_token_id"] = eos;
  if (f.has("tokenizer.ggml.bos_token_id")) g["bos_token_id"] = f.integer("tokenizer.ggml.bos_token_id");
  if (f.has("tokenizer.ggml.padding_token_id")) {
    g["pad_token_id"] = f.integer("tokenizer.ggml.padding_token_id");
  }
  if (f.has("general.sampling.temp")) {
    g["do_sample"] = true;
    g["temperature"] = f.number("general.sampling.temp");
  }
  if (f.has("general.sampling.top_k")) g["top_k"] = f.integer("general.sampling.top_k");
  if (f.has("general.sampling.top_p")) g["top_p"] = f.number("general.sampling.top_p");
  if (f.has("general.sampling.min_p")) g["min_p"] = f.number("general.sampling.min_p");
  if (f.has("general.sampling.penalty_repeat")) {
    g["repetition_penalty"] = f.number("general.sampling.penalty_repeat");
  }
  return g;
}

}  // namespace

GgufPairInfo describe_gguf_pair(const GgufFile& text, const GgufFile* mmproj) {
  GgufPairInfo info;
  info.family = family_of(text, mmproj);
  info.generation = generation_of(text);
  if (info.family == ModelFamily::kLlava || info.family == ModelFamily::kLlavaNext) {
    info.config = gguf_llava_config(text, mmproj, info.family);
    if (mmproj) info.preprocessor = gguf_llava_preprocessor(*mmproj, info.family);
    return info;
  }
  const bool qwen3 = info.family == ModelFamily::kQwen3VL;
  info.config = qwen3 ? qwen3vl_config(text, mmproj) : qwen2vl_config(text, mmproj, info.family);
  info.config["tie_word_embeddings"] = !text.has_tensor("output.weight");
  info.config["image_token_id"] = token_id(text, "<|image_pad|>");
  info.config["video_token_id"] = token_id(text, "<|video_pad|>");
  info.config["vision_start_token_id"] = token_id(text, "<|vision_start|>");
  info.config["vision_end_token_id"] = token_id(text, "<|vision_end|>");
  if (mmproj) {
    info.deepstack = deepstack_indexes(*mmproj);
    const std::string key = "qwen3vl.n_deepstack_layers";
    if (qwen3 && text.has(key) && text.integer(key) != static_cast<int64_t>(info.deepstack.size())) {
      fail(ErrorKind::kCorrupt, mmproj->path(), ": ", info.deepstack.size(),
           " deepstack layers, but the text model ", text.path(), " expects ", text.integer(key));
    }
    info.preprocessor = preprocessor_of(*mmproj, info.family);
  }
  return info;
}

}  // namespace kantu
