// llama.cpp's Qwen3-VL GGUF pair opened as a ModelFolder: the metadata of the text file
// (general.architecture "qwen3vl") and of the mmproj file ("clip", projector
// "qwen3vl_merger") become the config.json / generation_config.json / preprocessor
// config a Hugging Face folder would have, and the tensors are exposed under their
// Hugging Face names (gguf_qwen3vl_names.h) with our shapes. Only the Conv3d patch
// kernel, which llama.cpp stores as two Conv2d halves, is rebuilt into an owned buffer;
// everything else stays a view into the mapped files.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "formats/gguf_qwen3vl_names.h"
#include "formats/model_folder.h"

namespace kantu {

namespace {

constexpr const char* kTextArch = "qwen3vl";
constexpr const char* kProjector = "qwen3vl_merger";

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
       " token (a Qwen3-VL vocabulary has it)");
}

void check_text_file(const GgufFile& f) {
  const std::string arch = arch_of(f);
  if (arch == "clip") {
    fail(ErrorKind::kInvalidArgument, f.path(),
         " is a vision projector (mmproj) file; pass it with --mmproj and the text model with -m");
  }
  if (arch != kTextArch) {
    fail(ErrorKind::kUnsupported, f.path(), ": general.architecture is \"", arch,
         "\"; kantu runs Qwen3-VL GGUF files (\"", kTextArch, "\")");
  }
}

void check_mmproj_file(const GgufFile& f) {
  const std::string arch = arch_of(f);
  if (arch == kTextArch) {
    fail(ErrorKind::kInvalidArgument, f.path(),
         " is a text model file, not a vision projector (mmproj)");
  }
  if (arch != "clip") {
    fail(ErrorKind::kUnsupported, f.path(), ": general.architecture is \"", arch,
         "\"; an mmproj file has \"clip\"");
  }
  const std::string projector = f.string("clip.projector_type");
  if (projector != kProjector) {
    fail(ErrorKind::kUnsupported, f.path(), ": clip.projector_type is \"", projector,
         "\"; kantu handles Qwen3-VL's \"", kProjector, "\"");
  }
  if (f.has("clip.has_vision_encoder") && !f.boolean("clip.has_vision_encoder")) {
    fail(ErrorKind::kUnsupported, f.path(), ": clip.has_vision_encoder is false");
  }
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

Json text_config(const GgufFile& f) {
  const std::string a = std::string(kTextArch) + ".";
  const TensorView& embed = f.tensor("token_embd.weight");
  if (embed.shape.size() != 2) {
    fail(ErrorKind::kCorrupt, f.path(), ": token_embd.weight has shape ", shape_string(embed.shape),
         ", expected [vocab, hidden]");
  }
  Json t = Json::object();
  t["model_type"] = "qwen3_vl_text";
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
  t["rope_theta"] = f.number(a + "rope.freq_base");
  std::vector<int64_t> sections = f.integers(a + "rope.dimension_sections");
  // llama.cpp stores four sections (T, H, W, unused); Qwen3-VL uses the first three.
  if (sections.size() < 3 || (sections.size() == 4 && sections[3] != 0) || sections.size() > 4) {
    fail(ErrorKind::kCorrupt, f.path(), ": ", a, "rope.dimension_sections must be [T, H, W, 0]");
  }
  sections.resize(3);
  t["rope_scaling"] = {{"rope_type", "default"}, {"mrope_section", sections},
                       {"mrope_interleaved", true}};
  if (f.has("tokenizer.ggml.bos_token_id")) t["bos_token_id"] = f.integer("tokenizer.ggml.bos_token_id");
  if (f.has("tokenizer.ggml.eos_token_id")) t["eos_token_id"] = f.integer("tokenizer.ggml.eos_token_id");
  return t;
}

Json vision_config(const GgufFile& m, const Json& text) {
  const TensorView& pos = m.tensor("v.position_embd.weight");
  const TensorView& patch = m.tensor("v.patch_embd.weight");
  if (pos.shape.size() != 2 || patch.shape.size() != 4) {
    fail(ErrorKind::kCorrupt, m.path(), ": v.position_embd.weight ", shape_string(pos.shape),
         " / v.patch_embd.weight ", shape_string(patch.shape),
         " should be [positions, hidden] / [hidden, channels, patch, patch]");
  }
  Json v = Json::object();
  v["model_type"] = "qwen3_vl";
  v["hidden_size"] = m.integer("clip.vision.embedding_length");
  v["intermediate_size"] = m.integer("clip.vision.feed_forward_length");
  v["depth"] = m.integer("clip.vision.block_count");
  v["num_heads"] = m.integer("clip.vision.attention.head_count");
  v["patch_size"] = m.integer("clip.vision.patch_size");
  v["in_channels"] = patch.shape[1];
  v["temporal_patch_size"] = 2;  // the kernel comes as two Conv2d halves
  v["spatial_merge_size"] =
      m.has("clip.vision.spatial_merge_size") ? m.integer("clip.vision.spatial_merge_size") : 2;
  v["out_hidden_size"] = m.has("clip.vision.projection_dim")
                             ? m.integer("clip.vision.projection_dim")
                             : text.at("hidden_size").get<int64_t>();
  v["num_position_embeddings"] = pos.shape[0];
  // clip.use_gelu is ggml's tanh-approximated GELU, Qwen3-VL's gelu_pytorch_tanh.
  v["hidden_act"] = m.has("clip.use_silu") && m.boolean("clip.use_silu") ? "silu" : "gelu_pytorch_tanh";
  v["deepstack_visual_indexes"] = deepstack_indexes(m);
  return v;
}

// The mmproj's image settings in preprocessor_config.json's keys (the family fills in
// its processor defaults for the rest).
Json preprocessor_of(const GgufFile& m) {
  Json p = Json::object();
  p["image_processor_type"] = "Qwen2VLImageProcessorFast";
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

// v.patch_embd.weight (T=0) and v.patch_embd.weight.1 (T=1), each [D, C, P, P], back
// into the Conv3d kernel [D, C, 2, P, P].
void add_patch_kernel(WeightStore& store, const GgufFile& m, size_t file_index) {
  const TensorView& t0 = m.tensor("v.patch_embd.weight");
  if (!m.has_tensor("v.patch_embd.weight.1")) {
    fail(ErrorKind::kCorrupt, m.path(),
         ": v.patch_embd.weight.1 (the second temporal half of the patch kernel) is missing");
  }
  const TensorView& t1 = m.tensor("v.patch_embd.weight.1");
  if (t0.shape != t1.shape || t0.dtype != t1.dtype) {
    fail(ErrorKind::kCorrupt, m.path(), ": v.patch_embd.weight ", shape_string(t0.shape), " ",
         dtype_name(t0.dtype), " and .weight.1 ", shape_string(t1.shape), " ", dtype_name(t1.dtype),
         " differ");
  }
  if (dtype_is_quantized(t0.dtype)) {
    fail(ErrorKind::kUnsupported, m.path(), ": v.patch_embd.weight is ", dtype_name(t0.dtype),
         "; the patch kernel must be F32, F16 or BF16");
  }
  const int64_t d = t0.shape[0], c = t0.shape[1], p = t0.shape[2], q = t0.shape[3];
  const size_t plane = dtype_bytes(t0.dtype, p * q);
  std::vector<uint8_t> bytes(2 * t0.nbytes);
  const auto* a = static_cast<const uint8_t*>(t0.data);
  const auto* b = static_cast<const uint8_t*>(t1.data);
  uint8_t* out = bytes.data();
  for (int64_t i = 0; i < d * c; ++i) {
    std::memcpy(out, a + i * plane, plane);
    std::memcpy(out + plane, b + i * plane, plane);
    out += 2 * plane;
  }
  store.add_owned("model.visual.patch_embed.proj.weight", t0.dtype, {d, c, 2, p, q},
                  std::move(bytes), file_index);
}

// Every tensor of `f` under its Hugging Face name; unknown names are an error (a file
// from another model or converter would otherwise load half-bound).
void add_tensors(WeightStore& store, const std::shared_ptr<const GgufFile>& f,
                 const std::vector<int64_t>& deepstack, bool mmproj) {
  const size_t index = store.keep(f);
  for (const std::string& name : f->tensor_order()) {
    if (mmproj && (name == "v.patch_embd.weight" || name == "v.patch_embd.weight.1")) continue;
    const std::optional<std::string> hf = qwen3vl_hf_name(name, deepstack);
    const bool belongs = (qwen3vl_gguf_file(name) == Qwen3vlGgufFile::kMmproj) == mmproj;
    if (!hf || !belongs) {
      fail(ErrorKind::kUnsupported, f->path(), ": tensor '", name, "' is not part of a Qwen3-VL ",
           mmproj ? "mmproj" : "text model", " file");
    }
    store.add(*hf, f->tensor(name), index);
  }
  if (mmproj) add_patch_kernel(store, *f, index);
}

}  // namespace

ModelFolder ModelFolder::open_gguf(const std::string& model_path, const std::string& mmproj_path,
                                   const Options& options) {
  ModelFolder m;
  m.dir_ = model_path;
  m.config_path_ = model_path;
  m.gguf_model_ = std::make_shared<const GgufFile>(GgufFile::open(model_path));
  const GgufFile& text = *m.gguf_model_;
  check_text_file(text);
  if (!mmproj_path.empty()) {
    m.gguf_mmproj_ = std::make_shared<const GgufFile>(GgufFile::open(mmproj_path));
    check_mmproj_file(*m.gguf_mmproj_);
  }
  m.has_vision_ = m.gguf_mmproj_ != nullptr;

  Json config = Json::object();
  config["model_type"] = "qwen3_vl";
  config["architectures"] = Json::array({"Qwen3VLForConditionalGeneration"});
  config["text_config"] = text_config(text);
  config["tie_word_embeddings"] = !text.has_tensor("output.weight");
  config["image_token_id"] = token_id(text, "<|image_pad|>");
  config["video_token_id"] = token_id(text, "<|video_pad|>");
  config["vision_start_token_id"] = token_id(text, "<|vision_start|>");
  config["vision_end_token_id"] = token_id(text, "<|vision_end|>");
  std::vector<int64_t> deepstack;
  if (m.has_vision_) {
    const GgufFile& mm = *m.gguf_mmproj_;
    config["vision_config"] = vision_config(mm, config["text_config"]);
    deepstack = config["vision_config"]["deepstack_visual_indexes"].get<std::vector<int64_t>>();
    const std::string key = std::string(kTextArch) + ".n_deepstack_layers";
    if (text.has(key) && text.integer(key) != static_cast<int64_t>(deepstack.size())) {
      fail(ErrorKind::kCorrupt, mmproj_path, ": ", deepstack.size(),
           " deepstack layers, but the text model ", model_path, " expects ", text.integer(key));
    }
    m.preprocessor_json_ = preprocessor_of(mm);
    m.preprocessor_path_ = mmproj_path;
  }
  m.config_ = std::move(config);
  m.family_ = ModelFamily::kQwen3VL;
  m.model_type_ = "qwen3_vl";
  m.architecture_ = "Qwen3VLForConditionalGeneration";
  m.generation_json_ = generation_of(text);
  m.generation_ = parse_generation_config(m.generation_json_, model_path);
  if (options.load_weights) {
    WeightStore store;
    add_tensors(store, m.gguf_model_, deepstack, false);
    if (m.gguf_mmproj_) add_tensors(store, m.gguf_mmproj_, deepstack, true);
    check_weight_dtypes(store);
    // Missing tensors are reported under the names the user can find in the files.
    const std::string mmproj_name = mmproj_path.empty() ? "the mmproj file (--mmproj)" : mmproj_path;
    store.set_name_hint([deepstack, model_path, mmproj_name](const std::string& hf) {
      const std::optional<std::string> g = qwen3vl_gguf_name(hf, deepstack);
      if (!g) return std::string();
      const bool in_mmproj = qwen3vl_gguf_file(*g) == Qwen3vlGgufFile::kMmproj;
      return cat("GGUF '", *g, "' in ", in_mmproj ? mmproj_name : model_path);
    });
    m.weights_ = std::move(store);
  }
  return m;
}

}  // namespace kantu
