// The LLaVA half of the test converter (gguf_pair.h): a llava-hf tiny folder -> the pair
// llama.cpp writes for it: the text file as convert_hf_to_gguf.py does for the Llama model
// (arch "llama", q/k rows permuted for its RoPE, the SentencePiece vocabulary padded to
// vocab_size with the added tokens), the mmproj as the legacy convert_image_encoder_to_gguf.py
// does (projector "mlp", CLIP blocks up to the deepest feature layer, no post_layernorm,
// fc1 named ffn_down, feature_layer as hidden-state indexes, NeXT's flattened pinpoints).
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
#include "text/sentencepiece_model.h"

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

bool looks_special(const std::string& t) {
  return (t.size() >= 4 && t.rfind("<|", 0) == 0 && t.compare(t.size() - 2, 2, "|>") == 0) || t == "<pad>" || t == "<mask>";
}

// convert_hf_to_gguf.py's _create_vocab_sentencepiece + SpecialVocab for a llava-hf folder.
void add_tokenizer(GgufWriter& w, const std::string& dir, int64_t vocab_size) {
  const text::SentencePieceModel sp =
      text::parse_sentencepiece_model(read_file(dir + "/tokenizer.model"), dir + "/tokenizer.model");
  std::vector<std::string> tokens(static_cast<size_t>(vocab_size));
  std::vector<float> scores(static_cast<size_t>(vocab_size), -1000.0f);
  std::vector<int32_t> types(static_cast<size_t>(vocab_size), 5);  // UNUSED
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (size_t i = 0; i < sp.pieces.size() && i < tokens.size(); ++i) {
    tokens[i] = sp.pieces[i].piece;
    scores[i] = sp.pieces[i].score;
    types[i] = static_cast<int32_t>(sp.pieces[i].type);
  }
  const Json config = read_json_file(dir + "/tokenizer_config.json");
  for (const auto& [key, entry] : config.at("added_tokens_decoder").items()) {
    const size_t id = std::stoul(key);
    if (id >= tokens.size()) continue;
    const std::string content = entry.at("content").get<std::string>();
    types[id] = entry.value("special", false) || looks_special(content) ? 3 : 4;
    scores[id] = -1000.0f;
    tokens[id] = content;
  }
  auto id_of = [&](const std::string& t) {
    return static_cast<uint32_t>(std::find(tokens.begin(), tokens.end(), t) - tokens.begin());
  };
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_array("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.add_array("tokenizer.ggml.scores", std::span<const float>(scores));
  w.add_array("tokenizer.ggml.token_type", std::span<const int32_t>(types));
  w.add_bool("tokenizer.ggml.add_space_prefix", sp.add_dummy_prefix);
  w.add_bool("tokenizer.ggml.remove_extra_whitespaces", sp.remove_extra_whitespaces);
  w.add_uint32("tokenizer.ggml.bos_token_id", id_of(config.at("bos_token").get<std::string>()));
  w.add_uint32("tokenizer.ggml.eos_token_id", id_of(config.at("eos_token").get<std::string>()));
  w.add_uint32("tokenizer.ggml.unknown_token_id", id_of(config.at("unk_token").get<std::string>()));
  w.add_uint32("tokenizer.ggml.padding_token_id", id_of(config.at("pad_token").get<std::string>()));
  w.add_bool("tokenizer.ggml.add_bos_token", config.value("add_bos_token", true));
  w.add_bool("tokenizer.ggml.add_eos_token", config.value("add_eos_token", false));
  w.add_string("tokenizer.chat_template",
               read_json_file(dir + "/chat_template.json").at("chat_template").get<std::string>());
}

}  // namespace

GgufPair write_llava_gguf_pair(const std::string& hf_dir, const std::string& out_dir, DType weights,
                               const std::set<std::string>& drop) {
  const Json config = read_json_file(hf_dir + "/config.json");
  const llava::Config c = llava::parse_config(config, hf_dir + "/config.json");
  const ModelFamily family = c.next ? ModelFamily::kLlavaNext : ModelFamily::kLlava;
  std::vector<int64_t> features = c.feature_indexes();
  const int64_t blocks = *std::max_element(features.begin(), features.end());
  const Json pre = read_json_file(hf_dir + "/preprocessor_config.json");
  const SafetensorsFile st = SafetensorsFile::open(hf_dir + "/model.safetensors");

  std::vector<Pending> text, vision;
  for (const auto& [hf, view] : st.tensors()) {
    if (hf.find("post_layernorm") != std::string::npos) continue;  // the converter skips it
    const std::optional<std::string> name = gguf_name_of(hf, family);
    if (!name) throw std::runtime_error("no GGUF name for " + hf);
    if (drop.count(*name)) continue;
    if (name->rfind("v.blk.", 0) == 0 && std::stoll(name->substr(6)) >= blocks) continue;
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
    const llava::TextConfig& t = c.text;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "tiny llava");
    w.add_uint32("llama.block_count", static_cast<uint32_t>(t.num_layers));
    w.add_uint32("llama.context_length", static_cast<uint32_t>(t.max_position_embeddings));
    w.add_uint32("llama.embedding_length", static_cast<uint32_t>(t.hidden_size));
    w.add_uint32("llama.feed_forward_length", static_cast<uint32_t>(t.intermediate_size));
    w.add_uint32("llama.attention.head_count", static_cast<uint32_t>(t.num_heads));
    w.add_uint32("llama.attention.head_count_kv", static_cast<uint32_t>(t.num_kv_heads));
    w.add_uint32("llama.rope.dimension_count", static_cast<uint32_t>(t.head_dim));
    w.add_uint32("llama.vocab_size", static_cast<uint32_t>(t.vocab_size));
    w.add_float32("llama.attention.layer_norm_rms_epsilon", t.rms_norm_eps);
    w.add_float32("llama.rope.freq_base", static_cast<float>(t.rope_theta));
    add_tokenizer(w, hf_dir, t.vocab_size);
    write_all(w, text);
  }
  {
    GgufWriter w(out.mmproj);
    const llava::VisionConfig& v = c.vision;
    w.add_string("general.architecture", "clip");
    w.add_bool("clip.has_text_encoder", false);
    w.add_bool("clip.has_vision_encoder", true);
    w.add_bool("clip.has_llava_projector", true);
    w.add_string("clip.projector_type", "mlp");
    w.add_uint32("clip.vision.image_size", static_cast<uint32_t>(v.image_size));
    w.add_uint32("clip.vision.patch_size", static_cast<uint32_t>(v.patch_size));
    w.add_uint32("clip.vision.embedding_length", static_cast<uint32_t>(v.hidden_size));
    w.add_uint32("clip.vision.feed_forward_length", static_cast<uint32_t>(v.intermediate_size));
    w.add_uint32("clip.vision.projection_dim", config.at("vision_config").value("projection_dim", 768u));
    w.add_uint32("clip.vision.attention.head_count", static_cast<uint32_t>(v.num_heads));
    w.add_float32("clip.vision.attention.layer_norm_epsilon", v.layer_norm_eps);
    w.add_uint32("clip.vision.block_count", static_cast<uint32_t>(blocks));
    std::vector<int32_t> layers(features.begin(), features.end());
    w.add_array("clip.vision.feature_layer", std::span<const int32_t>(layers));
    if (c.next) {
      std::vector<int32_t> flat;
      for (const auto& p : c.image_grid_pinpoints) {
        flat.push_back(static_cast<int32_t>(p[0]));
        flat.push_back(static_cast<int32_t>(p[1]));
      }
      w.add_array("clip.vision.image_grid_pinpoints", std::span<const int32_t>(flat));
      w.add_string("clip.vision.mm_patch_merge_type", "spatial_unpad");
      w.add_string("clip.vision.image_aspect_ratio", "anyres");
    }
    const std::vector<float> mean = pre.at("image_mean").get<std::vector<float>>();
    const std::vector<float> stdv = pre.at("image_std").get<std::vector<float>>();
    w.add_array("clip.vision.image_mean", std::span<const float>(mean));
    w.add_array("clip.vision.image_std", std::span<const float>(stdv));
    w.add_bool("clip.use_gelu", v.hidden_act == "gelu");
    write_all(w, vision);
  }
  return out;
}

}  // namespace kantu::test
