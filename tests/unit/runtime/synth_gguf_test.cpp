// kantu synth --format gguf on the tiny shape: llama.cpp's names and layout, the
// converter's metadata, and the very same values as the safetensors folder.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/half.h"
#include "core/json.h"
#include "formats/gguf_names.h"
#include "formats/model_folder.h"
#include "formats/safetensors.h"
#include "models/model.h"
#include "runtime/synth.h"
#include "support/testdata.h"

namespace kantu::runtime {
namespace {

namespace fs = std::filesystem;

// A minimal GGUF walker for the test (the production reader lives in formats/gguf.h):
// keys with their type and value offset, tensors with dims, type and absolute offset.
struct Walked {
  std::string bytes;
  struct Kv {
    uint32_t type;
    size_t value;  // offset of the value
  };
  std::map<std::string, Kv> kvs;
  struct Tensor {
    std::vector<uint64_t> ne;
    uint32_t type;
    uint64_t offset;  // absolute
  };
  std::map<std::string, Tensor> tensors;

  template <typename T>
  T at(size_t pos) const {
    T v{};
    EXPECT_LE(pos + sizeof(T), bytes.size());
    if (pos + sizeof(T) <= bytes.size()) std::memcpy(&v, bytes.data() + pos, sizeof(T));
    return v;
  }
  std::string str_at(size_t pos) const { return bytes.substr(pos + 8, at<uint64_t>(pos)); }
  std::string string(const std::string& key) const { return str_at(kvs.at(key).value); }
  uint32_t u32(const std::string& key) const { return at<uint32_t>(kvs.at(key).value); }
  uint64_t array_count(const std::string& key) const { return at<uint64_t>(kvs.at(key).value + 4); }
};

size_t skip_value(const Walked& w, uint32_t type, size_t pos) {
  static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  if (type == 8) return pos + 8 + w.at<uint64_t>(pos);
  if (type == 9) {
    const uint32_t elem = w.at<uint32_t>(pos);
    const uint64_t n = w.at<uint64_t>(pos + 4);
    pos += 12;
    for (uint64_t i = 0; i < n; ++i) pos = skip_value(w, elem, pos);
    return pos;
  }
  return pos + sizes[type];
}

Walked walk(const std::string& path) {
  Walked w;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  w.bytes = s.str();
  EXPECT_EQ(w.bytes.substr(0, 4), "GGUF");
  EXPECT_EQ(w.at<uint32_t>(4), 3u);
  const uint64_t n_tensors = w.at<uint64_t>(8), n_kv = w.at<uint64_t>(16);
  size_t pos = 24;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = w.str_at(pos);
    pos += 8 + key.size();
    const uint32_t type = w.at<uint32_t>(pos);
    w.kvs[key] = {type, pos + 4};
    pos = skip_value(w, type, pos + 4);
  }
  std::vector<std::pair<std::string, Walked::Tensor>> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    const std::string name = w.str_at(pos);
    pos += 8 + name.size();
    Walked::Tensor t;
    const uint32_t dims = w.at<uint32_t>(pos);
    pos += 4;
    for (uint32_t d = 0; d < dims; ++d, pos += 8) t.ne.push_back(w.at<uint64_t>(pos));
    t.type = w.at<uint32_t>(pos);
    t.offset = w.at<uint64_t>(pos + 4);
    pos += 12;
    infos.emplace_back(name, t);
  }
  const size_t data = (pos + 31) / 32 * 32;
  for (auto& [name, t] : infos) {
    EXPECT_EQ(t.offset % 32, 0u) << name;
    t.offset += data;
    w.tensors[name] = t;
  }
  return w;
}

float stored_value(const Walked& w, const Walked::Tensor& t, size_t i) {
  if (t.type == 0) return w.at<float>(t.offset + 4 * i);
  if (t.type == 1) return f16_to_f32(w.at<uint16_t>(t.offset + 2 * i));
  EXPECT_EQ(t.type, 30u);
  return bf16_to_f32(w.at<uint16_t>(t.offset + 2 * i));
}

class SynthGguf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("synth_gguf"));
    const Json config = synth_config("tiny");
    const std::string tok = test::testdata("models/qwen3vl-tiny-a");
    SynthOptions options;
    options.seed = 11;
    options.threads = 2;
    synthesize_checkpoint(config, tok, *dir_ + "/hf", options);
    const SynthReport r = synthesize_gguf_pair(config, tok, *dir_ + "/gguf", options);
    EXPECT_EQ(r.shards, 2);
    text_ = new Walked(walk(*dir_ + "/gguf/model.gguf"));
    mmproj_ = new Walked(walk(*dir_ + "/gguf/mmproj.gguf"));
  }
  static void TearDownTestSuite() {
    delete text_;
    delete mmproj_;
    delete dir_;
  }
  static std::string* dir_;
  static Walked* text_;
  static Walked* mmproj_;
};
std::string* SynthGguf::dir_ = nullptr;
Walked* SynthGguf::text_ = nullptr;
Walked* SynthGguf::mmproj_ = nullptr;

TEST_F(SynthGguf, TextFileHasTheKeysLlamaCppNeeds) {
  const Walked& t = *text_;
  EXPECT_EQ(t.string("general.architecture"), "qwen3vl");
  EXPECT_EQ(t.u32("general.file_type"), 32u);  // MOSTLY_BF16
  EXPECT_EQ(t.u32("qwen3vl.block_count"), 2u);
  EXPECT_EQ(t.u32("qwen3vl.embedding_length"), 64u);
  EXPECT_EQ(t.u32("qwen3vl.attention.head_count_kv"), 2u);
  EXPECT_EQ(t.u32("qwen3vl.attention.key_length"), 32u);
  EXPECT_EQ(t.u32("qwen3vl.n_deepstack_layers"), 2u);
  EXPECT_EQ(t.array_count("qwen3vl.rope.dimension_sections"), 4u);
  EXPECT_TRUE(t.kvs.count("qwen3vl.rope.freq_base"));
  EXPECT_TRUE(t.kvs.count("qwen3vl.attention.layer_norm_rms_epsilon"));
  EXPECT_EQ(t.string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(t.string("tokenizer.ggml.pre"), "qwen2");
  EXPECT_EQ(t.array_count("tokenizer.ggml.tokens"), 151936u);
  EXPECT_EQ(t.array_count("tokenizer.ggml.token_type"), 151936u);
  EXPECT_GT(t.array_count("tokenizer.ggml.merges"), 150000u);
  EXPECT_EQ(t.u32("tokenizer.ggml.eos_token_id"), 151645u);
  EXPECT_EQ(t.u32("tokenizer.ggml.padding_token_id"), 151643u);
  EXPECT_NE(t.string("tokenizer.chat_template").find("<|im_start|>"), std::string::npos);
  // tied embeddings: no output.weight, as the converter writes it
  EXPECT_TRUE(t.tensors.count("token_embd.weight"));
  EXPECT_FALSE(t.tensors.count("output.weight"));
  EXPECT_EQ(t.tensors.at("token_embd.weight").ne, (std::vector<uint64_t>{64, 151936}));
}

TEST_F(SynthGguf, MmprojFileHasTheClipKeys) {
  const Walked& m = *mmproj_;
  EXPECT_EQ(m.string("general.architecture"), "clip");
  EXPECT_EQ(m.string("clip.projector_type"), "qwen3vl_merger");
  EXPECT_EQ(m.u32("clip.vision.projection_dim"), 64u);
  EXPECT_EQ(m.u32("clip.vision.image_size"), 128u);  // sqrt(64 positions) * 16
  EXPECT_EQ(m.u32("clip.vision.block_count"), 3u);
  EXPECT_EQ(m.array_count("clip.vision.is_deepstack_layers"), 3u);
  EXPECT_EQ(m.array_count("clip.vision.image_mean"), 3u);
  for (const char* name : {"v.deepstack.1.fc1.weight", "v.deepstack.2.norm.bias", "mm.0.weight",
                           "mm.2.bias", "v.post_ln.weight", "v.patch_embd.weight.1"})
    EXPECT_TRUE(m.tensors.count(name)) << name;
  EXPECT_EQ(m.tensors.at("v.patch_embd.weight").ne, (std::vector<uint64_t>{16, 16, 3, 64}));
  EXPECT_EQ(m.tensors.at("v.patch_embd.weight").type, 0u);      // F32 in a BF16 file
  EXPECT_EQ(m.tensors.at("v.position_embd.weight").type, 0u);   // F32
  EXPECT_EQ(m.tensors.at("v.blk.0.attn_qkv.bias").type, 0u);    // F32
  EXPECT_EQ(m.tensors.at("v.blk.0.attn_qkv.weight").type, 30u); // BF16
}

// Every value equals the safetensors folder's for the same seed (BF16 stays BF16; the F32
// tensors are exact widenings), including both halves of the split patch kernel.
TEST_F(SynthGguf, SameValuesAsTheSafetensorsFolder) {
  const auto hf = SafetensorsFile::open(*dir_ + "/hf/model.safetensors");
  const std::vector<int64_t> deepstack = {1, 2};
  size_t checked = 0;
  for (const auto& [name, view] : hf.tensors()) {
    const std::string gguf = *gguf_name_of(name, ModelFamily::kQwen3VL, deepstack);
    const Walked& file = gguf_file_of(gguf) == GgufPairFile::kText ? *text_ : *mmproj_;
    const auto* src = static_cast<const uint16_t*>(view.data);
    if (name == "model.visual.patch_embed.proj.weight") {
      // HF [D, C, T, P, P] -> frame T of [D, C, P, P]
      const int64_t plane = view.shape[3] * view.shape[4];
      for (int frame = 0; frame < 2; ++frame) {
        const auto& t = file.tensors.at(frame == 0 ? gguf : gguf + ".1");
        for (int64_t row = 0; row < view.shape[0] * view.shape[1]; ++row)
          for (int64_t k = 0; k < plane; ++k)
            ASSERT_EQ(stored_value(file, t, static_cast<size_t>(row * plane + k)),
                      bf16_to_f32(src[(row * 2 + frame) * plane + k]))
                << name << " frame " << frame;
      }
      ++checked;
      continue;
    }
    const auto& t = file.tensors.at(gguf);
    std::vector<uint64_t> reversed(view.shape.rbegin(), view.shape.rend());
    ASSERT_EQ(t.ne, reversed) << name;
    int64_t n = 1;
    for (int64_t d : view.shape) n *= d;
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(stored_value(file, t, static_cast<size_t>(i)), bf16_to_f32(src[i])) << name << "[" << i << "]";
    ++checked;
  }
  EXPECT_EQ(checked, hf.tensors().size());
  EXPECT_EQ(text_->tensors.size() + mmproj_->tensors.size(), hf.tensors().size() + 1);
}

TEST_F(SynthGguf, F16PairAndBadRequests) {
  const Json config = synth_config("tiny");
  const std::string tok = test::testdata("models/qwen3vl-tiny-a");
  SynthOptions options;
  options.gguf_weights = DType::kF16;
  synthesize_gguf_pair(config, tok, *dir_ + "/f16", options);
  const Walked w = walk(*dir_ + "/f16/mmproj.gguf");
  EXPECT_EQ(w.u32("general.file_type"), 1u);
  EXPECT_EQ(w.tensors.at("v.patch_embd.weight").type, 1u);   // F16 in an F16 file
  EXPECT_EQ(w.tensors.at("v.position_embd.weight").type, 0u);

  EXPECT_THROW(synthesize_gguf_pair(config, tok, *dir_ + "/f16", options), Error);  // exists
  options.gguf_weights = DType::kQ4_K;
  EXPECT_THROW(synthesize_gguf_pair(config, tok, *dir_ + "/q4", options), Error);
  options.gguf_weights = DType::kBF16;
  EXPECT_THROW(synthesize_gguf_pair(config, *dir_ + "/missing", *dir_ + "/x", options), Error);
  EXPECT_FALSE(fs::exists(*dir_ + "/x"));
  for (const auto& e : fs::directory_iterator(*dir_))
    EXPECT_EQ(e.path().filename().string().find(".partial-"), std::string::npos);
}

// Qwen2.5-VL and Qwen2-VL: the synthesized pair (qwen2vl text arch, qwen2.5vl_merger /
// qwen2vl_merger, the fused qkv split in three) runs exactly like the synthesized folder.
TEST(SynthGgufQwen2, PairRunsLikeTheFolder) {
  const std::string dir = test::make_temp_dir("synth_gguf_qwen2");
  const std::string tok = test::testdata("models/qwen25vl-tiny-a");
  for (const char* like : {"qwen2.5-vl-tiny", "qwen2-vl-tiny"}) {
    SCOPED_TRACE(like);
    const Json config = synth_config(like);
    SynthOptions options;
    options.seed = 5;
    options.threads = 2;
    synthesize_checkpoint(config, tok, dir + "/" + like + "-hf", options);
    synthesize_gguf_pair(config, tok, dir + "/" + like + "-gguf", options);
    const Walked m = walk(dir + "/" + like + "-gguf/mmproj.gguf");
    const bool v25 = std::string(like) == "qwen2.5-vl-tiny";
    EXPECT_EQ(m.string("clip.projector_type"), v25 ? "qwen2.5vl_merger" : "qwen2vl_merger");
    EXPECT_TRUE(m.tensors.count("v.blk.0.attn_k.weight"));
    EXPECT_FALSE(m.tensors.count("v.blk.0.attn_qkv.weight"));
    if (v25) {
      EXPECT_EQ(m.u32("clip.vision.n_wa_pattern"), 2u);  // full attention in 1, 3
    }
    const Walked t = walk(dir + "/" + like + "-gguf/model.gguf");
    EXPECT_EQ(t.string("general.architecture"), "qwen2vl");
    EXPECT_TRUE(t.tensors.count("blk.0.attn_q.bias"));

    auto folder = models::Model::load(dir + "/" + like + "-hf", {.threads = 2});
    auto pair = models::Model::load(
        ModelFolder::open_gguf(dir + "/" + like + "-gguf/model.gguf",
                               dir + "/" + like + "-gguf/mmproj.gguf", {}),
        {.threads = 2});
    EXPECT_EQ(pair->family(), folder->family());
    const std::vector<int32_t> ids = {151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198};
    auto a = folder->new_sequence(32);
    auto b = pair->new_sequence(32);
    folder->prefill(*a, ids);
    pair->prefill(*b, ids);
    EXPECT_TRUE(std::equal(a->logits().begin(), a->logits().end(), b->logits().begin()));
    // The vision towers agree too (one 56x56 image: a 4x4 patch grid).
    std::vector<float> pixels(16 * folder->patch_dim());
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
    const models::VisionOutput va = folder->encode_images({{pixels.data(), {1, 4, 4}}});
    const models::VisionOutput vb = pair->encode_images({{pixels.data(), {1, 4, 4}}});
    EXPECT_EQ(va.embeds, vb.embeds);
  }
}

}  // namespace
}  // namespace kantu::runtime
