// The LLaVA half of the test converter (gguf_pair.h): a llava-hf tiny folder -> the pair
// llama.cpp writes for it, with the product's metadata writers (runtime/gguf_llava_metadata.h)
// and name table; the tensors keep the folder's values (q/k rows permuted for llama.cpp's
// RoPE, fc1 named ffn_down as the legacy converter does).
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "core/half.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/gguf_names.h"
#include "formats/gguf_rope_rows.h"
#include "formats/gguf_writer.h"
#include "formats/llava_config.h"
#include "formats/safetensors.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"
#include "runtime/gguf_llava_metadata.h"

namespace kantu::test {

namespace {

struct Pending {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> encode(const std::vector<float>& v, DType dtype) {
  std::vector<uint8_t> out(dtype_bytes(dtype, static_cast<int64_t>(v.size())));
  if (dtype == DType::kF32) {
    std::memcpy(out.data(), v.data(), out.size());
    return out;
  }
  if (dtype != DType::kF16 && dtype != DType::kBF16) throw std::runtime_error("llava test pair: F32/F16/BF16 only");
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = dtype == DType::kF16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

void write_all(GgufWriter& w, const std::vector<Pending>& tensors) {
  std::vector<size_t> index;
  for (const auto& t : tensors) index.push_back(w.add_tensor(t.name, t.dtype, t.shape));
  w.begin_data();
  for (size_t i = 0; i < tensors.size(); ++i) w.write_tensor_data(index[i], 0, tensors[i].bytes.data(), tensors[i].bytes.size());
  w.finish();
}

}  // namespace

GgufPair write_llava_gguf_pair(const std::string& hf_dir, const std::string& out_dir, DType weights,
                               const std::set<std::string>& drop, bool legacy_mlp_names) {
  const Json config = read_json_file(hf_dir + "/config.json");
  const llava::Config c = llava::parse_config(config, hf_dir + "/config.json");
  const ModelFamily family = c.next ? ModelFamily::kLlavaNext : ModelFamily::kLlava;
  const Json pre = read_json_file(hf_dir + "/preprocessor_config.json");
  const SafetensorsFile st = SafetensorsFile::open(hf_dir + "/model.safetensors");

  std::vector<Pending> text, vision;
  for (const auto& [hf, view] : st.tensors()) {
    if (!runtime::llava_gguf_keeps(hf, c)) continue;
    std::optional<std::string> name = gguf_name_of(hf, family);
    if (!name) throw std::runtime_error("no GGUF name for " + hf);
    if (!legacy_mlp_names) name = swap_clip_mlp_name(*name);
    if (drop.count(*name)) continue;
    std::vector<float> values = to_f32(view);
    const bool q = name->find(".attn_q.") != std::string::npos, k = name->find(".attn_k.") != std::string::npos;
    if (name->rfind("blk.", 0) == 0 && (q || k)) {  // rows into llama.cpp's RoPE order
      const int64_t cols = view.shape.size() == 2 ? view.shape[1] : 1;
      std::vector<float> permuted(values.size());
      for (int64_t r = 0; r < view.shape[0]; ++r) {
        std::copy_n(values.begin() + r * cols, cols,
                    permuted.begin() + llama_gguf_row(r, c.text.head_dim) * cols);
      }
      values.swap(permuted);
    }
    const DType dtype = gguf_storage_dtype(*name, static_cast<int>(view.shape.size()), weights);
    Pending p{*name, dtype, view.shape, encode(values, dtype)};
    (gguf_file_of(*name) == GgufPairFile::kMmproj ? vision : text).push_back(std::move(p));
  }

  GgufPair out{out_dir + "/model.gguf", out_dir + "/mmproj.gguf"};
  {
    GgufWriter w(out.model);
    runtime::add_llava_text_metadata(w, c, weights);
    runtime::add_llama_tokenizer_metadata(w, c.text.vocab_size, hf_dir);
    write_all(w, text);
  }
  {
    GgufWriter w(out.mmproj);
    runtime::add_llava_mmproj_metadata(w, config, c, pre, weights);
    write_all(w, vision);
  }
  return out;
}

std::string write_plain_llama_gguf(const std::string& out_dir) {
  const GgufPair pair = write_llava_gguf_pair(testdata("models/llava15-tiny-a"), out_dir, DType::kF16);
  std::string bytes = read_file(pair.model);
  bool renamed = false;  // the token, and the chat template's mention of it
  for (size_t at = bytes.find("<image>"); at != std::string::npos; at = bytes.find("<image>", at)) {
    bytes[at + 5] = 'X';  // "<imagX>": same length, the file stays well-formed
    renamed = true;
  }
  if (!renamed) throw std::runtime_error("plain Llama GGUF: no <image> in " + pair.model);
  const std::string path = out_dir + "/llama.gguf";
  write_text_file(path, bytes);
  return path;
}

}  // namespace kantu::test
