// llama.cpp's GGUF pair (Qwen-VL or LLaVA) opened as a ModelFolder: the metadata of the
// text file and of the mmproj file become the config.json / generation_config.json /
// preprocessor config a Hugging Face folder would have (gguf_config.h), and the tensors
// are exposed under their Hugging Face names (gguf_names.h) with our shapes. Only the
// Qwen Conv3d patch kernel, which llama.cpp stores as two Conv2d halves, and a Llama
// text file's q/k projections (rows permuted for llama.cpp's RoPE) are rebuilt into owned
// buffers; everything else stays a view into the mapped files.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "formats/gguf_config.h"
#include "formats/gguf_names.h"
#include "formats/gguf_rope_rows.h"
#include "formats/model_folder.h"

namespace kantu {

namespace {

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

bool is_llava(ModelFamily family) {
  return family == ModelFamily::kLlava || family == ModelFamily::kLlavaNext;
}

// The name the table knows a CLIP MLP tensor by. The legacy converter writes fc1 as
// ffn_down and fc2 as ffn_up; a file named the other way round (fc1 = ffn_up) is told apart
// by shape, as llama.cpp does: fc1's input is the tower's width.
std::string clip_mlp_name(const GgufFile& f, const std::string& name) {
  const size_t at = name.find(".ffn_");
  if (!name.starts_with("v.blk.") || at == std::string::npos) return name;
  const std::string block = name.substr(0, at);
  const std::string down = block + ".ffn_down.weight";
  if (!f.has_tensor(down) || !f.has("clip.vision.embedding_length")) return name;
  const TensorView& t = f.tensor(down);
  const bool legacy = t.shape.size() == 2 && t.shape[1] == f.integer("clip.vision.embedding_length");
  return legacy ? name : swap_clip_mlp_name(name);
}

// Every tensor of `f` under its Hugging Face name; unknown names are an error (a file
// from another model or converter would otherwise load half-bound). The Qwen patch
// kernel halves are joined (add_patch_kernel); a Llama text file's q/k rows go back to
// transformers' order (gguf_rope_rows.h).
void add_tensors(WeightStore& store, const std::shared_ptr<const GgufFile>& f, ModelFamily family,
                 const std::vector<int64_t>& deepstack, bool mmproj) {
  const size_t index = store.keep(f);
  const bool llava = is_llava(family);
  for (const std::string& name : f->tensor_order()) {
    if (!llava && mmproj && (name == "v.patch_embd.weight" || name == "v.patch_embd.weight.1")) continue;
    const std::string table_name = llava && mmproj ? clip_mlp_name(*f, name) : name;
    const std::optional<std::string> hf = hf_name_of(table_name, family, deepstack);
    const bool belongs = (gguf_file_of(name) == GgufPairFile::kMmproj) == mmproj;
    if (!hf || !belongs) {
      fail(ErrorKind::kUnsupported, f->path(), ": tensor '", name, "' is not part of a ",
           model_family_name(family), " ", mmproj ? "mmproj" : "text model", " file");
    }
    const TensorView& t = f->tensor(name);
    const bool rope_rows = llava && !mmproj && (name.ends_with(".attn_q.weight") || name.ends_with(".attn_q.bias") ||
                                                name.ends_with(".attn_k.weight") || name.ends_with(".attn_k.bias"));
    if (rope_rows) {
      const int64_t heads = f->integer("llama.attention.head_count");
      const int64_t head_dim = f->has("llama.rope.dimension_count")
                                   ? f->integer("llama.rope.dimension_count")
                                   : f->integer("llama.embedding_length") / heads;
      store.add_owned(*hf, t.dtype, t.shape, llama_rows_to_hf(t, head_dim, f->path()), index);
      continue;
    }
    store.add(*hf, t, index);
  }
  if (mmproj && !llava) add_patch_kernel(store, *f, index);
}

}  // namespace

ModelFolder ModelFolder::open_gguf(const std::string& model_path, const std::string& mmproj_path,
                                   const Options& options) {
  ModelFolder m;
  m.dir_ = model_path;
  m.config_path_ = model_path;
  m.gguf_model_ = std::make_shared<const GgufFile>(GgufFile::open(model_path));
  if (!mmproj_path.empty()) {
    m.gguf_mmproj_ = std::make_shared<const GgufFile>(GgufFile::open(mmproj_path));
  }
  m.has_vision_ = m.gguf_mmproj_ != nullptr;
  const GgufPairInfo info = describe_gguf_pair(*m.gguf_model_, m.gguf_mmproj_.get());
  m.config_ = info.config;
  m.family_ = info.family;
  m.model_type_ = model_family_name(info.family);
  m.architecture_ = info.config.at("architectures")[0].get<std::string>();
  if (m.has_vision_) {
    m.preprocessor_json_ = info.preprocessor;
    m.preprocessor_path_ = mmproj_path;
  }
  m.generation_ = parse_generation_config(info.generation, model_path);
  if (options.load_weights) {
    WeightStore store;
    const ModelFamily family = info.family;
    const std::vector<int64_t> deepstack = info.deepstack;
    add_tensors(store, m.gguf_model_, family, deepstack, false);
    if (m.gguf_mmproj_) add_tensors(store, m.gguf_mmproj_, family, deepstack, true);
    check_weight_dtypes(store);
    // Missing tensors are reported under the names the user can find in the files.
    const std::string mmproj_name = mmproj_path.empty() ? "the mmproj file (--mmproj)" : mmproj_path;
    store.set_name_hint([family, deepstack, model_path, mmproj_name](const std::string& hf) {
      std::optional<std::string> g = gguf_name_of(hf, family, deepstack);
      if (!g) {  // a split q/k/v of a fused projection is named by its first part
        const auto split = gguf_qkv_split_names(hf, family);
        if (split) g = (*split)[0];
      }
      if (!g) return std::string();
      const bool in_mmproj = gguf_file_of(*g) == GgufPairFile::kMmproj;
      return cat("GGUF '", *g, "' in ", in_mmproj ? mmproj_name : model_path);
    });
    m.weights_ = std::move(store);
  }
  return m;
}

}  // namespace kantu
