#include "support/gguf_pair.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "core/half.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_writer.h"
#include "formats/safetensors.h"
#include "kernels/quant.h"

namespace kantu::test {

namespace {

enum : int32_t { kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5 };

std::vector<uint8_t> encode(const std::vector<float>& v, DType dtype, int64_t cols) {
  std::vector<uint8_t> out(dtype_bytes(dtype, static_cast<int64_t>(v.size())));
  switch (dtype) {
    case DType::kF32:
      std::memcpy(out.data(), v.data(), out.size());
      break;
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < v.size(); ++i) {
        const uint16_t h = dtype == DType::kF16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      break;
    default: {  // block types, row by row
      const size_t row_bytes = dtype_bytes(dtype, cols);
      for (size_t r = 0; r * cols < v.size(); ++r) {
        kernels::quantize_row(dtype, v.data() + r * cols, out.data() + r * row_bytes, cols);
      }
    }
  }
  return out;
}

struct PendingTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

void write_file(const std::vector<PendingTensor>& tensors, GgufWriter& w) {
  std::vector<size_t> index;
  for (const auto& t : tensors) index.push_back(w.add_tensor(t.name, t.dtype, t.shape));
  w.begin_data();
  for (size_t i = 0; i < tensors.size(); ++i) {
    w.write_tensor_data(index[i], 0, tensors[i].bytes.data(), tensors[i].bytes.size());
  }
  w.finish();
}

bool looks_special(const std::string& t) {  // llama.cpp's does_token_look_special
  return (t.size() >= 4 && t.rfind("<|", 0) == 0 && t.compare(t.size() - 2, 2, "|>") == 0) ||
         t == "<pad>" || t == "<mask>";
}

void add_tokenizer(GgufWriter& w, const std::string& dir, int64_t vocab_size) {
  const Json vocab = read_json_file(dir + "/vocab.json");
  const Json config = read_json_file(dir + "/tokenizer_config.json");
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<int32_t> types(static_cast<size_t>(vocab_size), kUnused);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (const auto& [token, id] : vocab.items()) {
    tokens.at(id.get<size_t>()) = token;
    types.at(id.get<size_t>()) = kNormal;
  }
  for (const auto& [key, entry] : config.at("added_tokens_decoder").items()) {
    const size_t id = std::stoul(key);
    const std::string content = entry.at("content").get<std::string>();
    tokens.at(id) = content;
    types.at(id) = entry.at("special").get<bool>() || looks_special(content) ? kControl : kUserDefined;
  }
  std::vector<std::string> merges;
  const std::string text = read_file(dir + "/merges.txt");
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    merges.push_back(line);
  }
  auto id_of = [&](const std::string& t) {
    return static_cast<uint32_t>(std::find(tokens.begin(), tokens.end(), t) - tokens.begin());
  };
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "qwen2");
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.add_array("tokenizer.ggml.merges", std::span<const std::string>(merges));
  w.add_uint32("tokenizer.ggml.eos_token_id", id_of("<|im_end|>"));
  w.add_uint32("tokenizer.ggml.padding_token_id", id_of("<|endoftext|>"));
  w.add_uint32("tokenizer.ggml.bos_token_id", id_of("<|endoftext|>"));
  w.add_bool("tokenizer.ggml.add_bos_token", false);
  w.add_string("tokenizer.chat_template",
               read_json_file(dir + "/chat_template.json").at("chat_template").get<std::string>());
}

}  // namespace

GgufPair write_gguf_pair(const std::string& hf_dir, const std::string& out_dir, DType weights,
                         const std::set<std::string>& drop) {
  const Json config = read_json_file(hf_dir + "/config.json");
  const std::string model_type = config.at("model_type").get<std::string>();
  if (model_type == "llava" || model_type == "llava_next") return write_llava_gguf_pair(hf_dir, out_dir, weights, drop);
  const ModelFamily family = model_type == "qwen3_vl"     ? ModelFamily::kQwen3VL
                             : model_type == "qwen2_5_vl" ? ModelFamily::kQwen25VL
                                                          : ModelFamily::kQwen2VL;
  const bool qwen3 = family == ModelFamily::kQwen3VL;
  const Json& tc = config.contains("text_config") ? config.at("text_config") : config;
  const Json& vc = config.at("vision_config");
  const Json pre = read_json_file(hf_dir + "/preprocessor_config.json");
  const std::vector<int64_t> deepstack =
      qwen3 ? vc.at("deepstack_visual_indexes").get<std::vector<int64_t>>() : std::vector<int64_t>{};
  const SafetensorsFile st = SafetensorsFile::open(hf_dir + "/model.safetensors");
  // The storage rule is stated for F32/F16/BF16 files; a quantized file keeps the same
  // plain tensors (F32) and quantizes the rest.
  const DType base = dtype_is_quantized(weights) ? DType::kF32 : weights;

  std::vector<PendingTensor> text, vision;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values) {
    if (drop.count(name)) return;
    const int rank = static_cast<int>(shape.size());
    DType dtype = gguf_storage_dtype(name, rank, base);
    if (dtype_is_quantized(weights) && dtype == DType::kF32 && rank == 2 &&
        name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 &&
        name != "v.position_embd.weight" && shape[1] % dtype_block_elems(weights) == 0) {
      dtype = weights;
    }
    PendingTensor t{name, dtype, shape, encode(values, dtype, shape.back())};
    (gguf_file_of(name) == GgufPairFile::kMmproj ? vision : text).push_back(std::move(t));
  };
  for (const auto& [hf, view] : st.tensors()) {
    const std::vector<float> values = to_f32(view);
    if (const auto split = gguf_qkv_split_names(hf, family)) {  // Qwen2/2.5-VL's fused qkv
      const int64_t rows = view.shape[0] / 3;
      const int64_t cols = view.shape.size() == 2 ? view.shape[1] : 1;
      for (int part = 0; part < 3; ++part) {
        const auto first = values.begin() + part * rows * cols;
        std::vector<int64_t> shape = view.shape;
        shape[0] = rows;
        add((*split)[part], shape, std::vector<float>(first, first + rows * cols));
      }
      continue;
    }
    const std::optional<std::string> name = gguf_name_of(hf, family, deepstack);
    if (!name) throw std::runtime_error("no GGUF name for " + hf);
    if (drop.count(*name)) continue;
    const int rank = static_cast<int>(view.shape.size());
    if (*name == "v.patch_embd.weight") {  // Conv3d [D, C, 2, P, P] -> two Conv2d halves
      const DType dtype = gguf_storage_dtype(*name, rank, base);
      const int64_t d = view.shape[0], c = view.shape[1], p = view.shape[3], q = view.shape[4];
      std::vector<float> half[2];
      for (int64_t i = 0; i < d * c; ++i) {
        for (int t = 0; t < 2; ++t) {
          const float* src = values.data() + (i * 2 + t) * p * q;
          half[t].insert(half[t].end(), src, src + p * q);
        }
      }
      vision.push_back({*name, dtype, {d, c, p, q}, encode(half[0], dtype, q)});
      if (!drop.count(*name + ".1")) {
        vision.push_back({*name + ".1", dtype, {d, c, p, q}, encode(half[1], dtype, q)});
      }
      continue;
    }
    add(*name, view.shape, values);
  }

  GgufPair out{out_dir + "/model.gguf", out_dir + "/mmproj.gguf"};
  {
    GgufWriter w(out.model);
    const std::string arch = qwen3 ? "qwen3vl" : "qwen2vl";
    const std::string a = arch + ".";
    w.add_string("general.architecture", arch);
    w.add_string("general.name", "tiny");
    w.add_uint32(a + "block_count", tc.at("num_hidden_layers").get<uint32_t>());
    w.add_uint32(a + "context_length", tc.at("max_position_embeddings").get<uint32_t>());
    w.add_uint32(a + "embedding_length", tc.at("hidden_size").get<uint32_t>());
    w.add_uint32(a + "feed_forward_length", tc.at("intermediate_size").get<uint32_t>());
    w.add_uint32(a + "attention.head_count", tc.at("num_attention_heads").get<uint32_t>());
    w.add_uint32(a + "attention.head_count_kv", tc.at("num_key_value_heads").get<uint32_t>());
    if (qwen3) {
      w.add_uint32(a + "attention.key_length", tc.at("head_dim").get<uint32_t>());
      w.add_uint32(a + "attention.value_length", tc.at("head_dim").get<uint32_t>());
    }
    w.add_float32(a + "attention.layer_norm_rms_epsilon", tc.at("rms_norm_eps").get<float>());
    w.add_float32(a + "rope.freq_base", tc.at("rope_theta").get<float>());
    std::vector<int32_t> sections = tc.at("rope_scaling").at("mrope_section").get<std::vector<int32_t>>();
    sections.push_back(0);
    w.add_array(a + "rope.dimension_sections", std::span<const int32_t>(sections));
    if (qwen3) w.add_uint32(a + "n_deepstack_layers", static_cast<uint32_t>(deepstack.size()));
    add_tokenizer(w, hf_dir, tc.at("vocab_size").get<int64_t>());
    write_file(text, w);
  }
  {
    GgufWriter w(out.mmproj);
    const int64_t patch = vc.at("patch_size").get<int64_t>();
    w.add_string("general.architecture", "clip");
    w.add_bool("clip.has_vision_encoder", true);
    w.add_uint32("clip.vision.patch_size", static_cast<uint32_t>(patch));
    w.add_uint32("clip.vision.block_count", vc.at("depth").get<uint32_t>());
    w.add_uint32("clip.vision.attention.head_count", vc.at("num_heads").get<uint32_t>());
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-6f);
    if (qwen3) {
      w.add_string("clip.projector_type", "qwen3vl_merger");
      w.add_bool("clip.use_gelu", true);
      const auto side = static_cast<int64_t>(std::lround(std::sqrt(vc.at("num_position_embeddings").get<double>())));
      w.add_uint32("clip.vision.image_size", static_cast<uint32_t>(side * patch));
      w.add_uint32("clip.vision.embedding_length", vc.at("hidden_size").get<uint32_t>());
      w.add_uint32("clip.vision.feed_forward_length", vc.at("intermediate_size").get<uint32_t>());
      w.add_uint32("clip.vision.projection_dim", vc.at("out_hidden_size").get<uint32_t>());
      w.add_uint32("clip.vision.spatial_merge_size", vc.at("spatial_merge_size").get<uint32_t>());
      std::vector<bool> flags(vc.at("depth").get<size_t>(), false);
      for (int64_t i : deepstack) flags.at(static_cast<size_t>(i)) = true;
      w.add_bool_array("clip.vision.is_deepstack_layers", flags);
    } else if (family == ModelFamily::kQwen25VL) {  // conversion/qwenvl.py
      w.add_string("clip.projector_type", "qwen2.5vl_merger");
      w.add_bool("clip.use_silu", true);
      w.add_uint32("clip.vision.image_size", 560);
      w.add_uint32("clip.vision.embedding_length", vc.at("hidden_size").get<uint32_t>());
      w.add_uint32("clip.vision.feed_forward_length", vc.at("intermediate_size").get<uint32_t>());
      w.add_uint32("clip.vision.projection_dim", vc.at("out_hidden_size").get<uint32_t>());
      const auto full = vc.at("fullatt_block_indexes").get<std::vector<int64_t>>();
      w.add_uint32("clip.vision.n_wa_pattern", static_cast<uint32_t>(full.at(0) + 1));
    } else {  // Qwen2-VL: the converter writes the merger output as feed_forward_length
      w.add_string("clip.projector_type", "qwen2vl_merger");
      w.add_uint32("clip.vision.image_size", 560);
      w.add_uint32("clip.vision.embedding_length", vc.at("embed_dim").get<uint32_t>());
      w.add_uint32("clip.vision.feed_forward_length", vc.at("hidden_size").get<uint32_t>());
      w.add_uint32("clip.vision.projection_dim", tc.at("hidden_size").get<uint32_t>());
    }
    const std::vector<float> mean = pre.at("image_mean").get<std::vector<float>>();
    const std::vector<float> stdv = pre.at("image_std").get<std::vector<float>>();
    w.add_array("clip.vision.image_mean", std::span<const float>(mean));
    w.add_array("clip.vision.image_std", std::span<const float>(stdv));
    write_file(vision, w);
  }
  return out;
}

}  // namespace kantu::test
