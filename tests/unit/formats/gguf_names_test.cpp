// The GGUF name table against llama.cpp's converter, per family.
#include "formats/gguf_names.h"
#include "formats/gguf_rope_rows.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <vector>

namespace kantu {
namespace {

const std::vector<int64_t> kDeepstack = {5, 11, 17};  // Qwen3-VL-2B

TEST(GgufQwen3vlNames, TextTensorsFollowLlamaCpp) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model.language_model.embed_tokens.weight", "token_embd.weight"},
      {"model.language_model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.language_model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.language_model.layers.27.self_attn.q_proj.weight", "blk.27.attn_q.weight"},
      {"model.language_model.layers.3.self_attn.o_proj.weight", "blk.3.attn_output.weight"},
      {"model.language_model.layers.3.self_attn.k_norm.weight", "blk.3.attn_k_norm.weight"},
      {"model.language_model.layers.10.post_attention_layernorm.weight", "blk.10.ffn_norm.weight"},
      {"model.language_model.layers.10.mlp.gate_proj.weight", "blk.10.ffn_gate.weight"},
      {"model.language_model.layers.10.mlp.down_proj.weight", "blk.10.ffn_down.weight"},
  };
  for (const auto& [hf, gguf] : cases) {
    EXPECT_EQ(gguf_name_of(hf, ModelFamily::kQwen3VL, kDeepstack), gguf) << hf;
    EXPECT_EQ(hf_name_of(gguf, ModelFamily::kQwen3VL, kDeepstack), hf) << gguf;
    EXPECT_EQ(gguf_file_of(gguf), GgufPairFile::kText) << gguf;
  }
}

TEST(GgufQwen3vlNames, VisionTensorsFollowLlamaCpp) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model.visual.patch_embed.proj.weight", "v.patch_embd.weight"},
      {"model.visual.patch_embed.proj.bias", "v.patch_embd.bias"},
      {"model.visual.pos_embed.weight", "v.position_embd.weight"},
      {"model.visual.blocks.0.norm1.bias", "v.blk.0.ln1.bias"},
      {"model.visual.blocks.23.attn.qkv.weight", "v.blk.23.attn_qkv.weight"},
      {"model.visual.blocks.4.attn.proj.bias", "v.blk.4.attn_out.bias"},
      {"model.visual.blocks.4.mlp.linear_fc1.weight", "v.blk.4.ffn_up.weight"},
      {"model.visual.blocks.4.mlp.linear_fc2.bias", "v.blk.4.ffn_down.bias"},
      {"model.visual.merger.norm.weight", "v.post_ln.weight"},
      {"model.visual.merger.linear_fc1.weight", "mm.0.weight"},
      {"model.visual.merger.linear_fc2.bias", "mm.2.bias"},
      // deep-stack mergers are numbered by the vision block that feeds them
      {"model.visual.deepstack_merger_list.0.norm.weight", "v.deepstack.5.norm.weight"},
      {"model.visual.deepstack_merger_list.1.linear_fc1.weight", "v.deepstack.11.fc1.weight"},
      {"model.visual.deepstack_merger_list.2.linear_fc2.bias", "v.deepstack.17.fc2.bias"},
  };
  for (const auto& [hf, gguf] : cases) {
    EXPECT_EQ(gguf_name_of(hf, ModelFamily::kQwen3VL, kDeepstack), gguf) << hf;
    EXPECT_EQ(hf_name_of(gguf, ModelFamily::kQwen3VL, kDeepstack), hf) << gguf;
    EXPECT_EQ(gguf_file_of(gguf), GgufPairFile::kMmproj) << gguf;
  }
}

TEST(GgufQwen3vlNames, UnknownNamesHaveNoCounterpart) {
  for (const char* hf : {"model.language_model.layers.0.self_attn.q_proj.bias",
                         "model.language_model.layers.x.mlp.up_proj.weight",
                         "model.language_model.layers.01.mlp.up_proj.weight",
                         "model.language_model.layers..mlp.up_proj.weight",
                         "model.language_model.layers.-1.mlp.up_proj.weight",
                         "model.visual.deepstack_merger_list.3.norm.weight",  // only 3 mergers
                         "model.layers.0.mlp.up_proj.weight", "", "lm_head"})
    EXPECT_EQ(gguf_name_of(hf, ModelFamily::kQwen3VL, kDeepstack), std::nullopt) << hf;
  for (const char* gguf : {"v.patch_embd.weight.1", "v.deepstack.6.norm.weight",
                           "blk.0.attn_qkv.weight", "blk.99999999999999999999.ffn_up.weight",
                           "mm.1.weight", "v.blk.0", ""})
    EXPECT_EQ(hf_name_of(gguf, ModelFamily::kQwen3VL, kDeepstack), std::nullopt) << gguf;
}

// conversion/qwenvl.py + gguf-py tensor_mapping.py: the same text names plus q/k/v biases;
// vision LayerNorm/fc1/fc2 (2) or RMSNorm/gate/up/down (2.5); the fused qkv split in three.
TEST(GgufQwen2vlNames, FollowLlamaCppBothWays) {
  for (ModelFamily f : {ModelFamily::kQwen2VL, ModelFamily::kQwen25VL}) {
    const bool v25 = f == ModelFamily::kQwen25VL;
    std::vector<std::pair<std::string, std::string>> cases = {
        {"model.language_model.layers.2.self_attn.q_proj.bias", "blk.2.attn_q.bias"},
        {"model.language_model.layers.2.self_attn.v_proj.weight", "blk.2.attn_v.weight"},
        {"model.visual.patch_embed.proj.weight", "v.patch_embd.weight"},
        {"model.visual.blocks.3.attn.k.bias", "v.blk.3.attn_k.bias"},
        {"model.visual.blocks.3.attn.proj.weight", "v.blk.3.attn_out.weight"},
        {"model.visual.blocks.3.norm2.weight", "v.blk.3.ln2.weight"},
        {"model.visual.merger.ln_q.weight", "v.post_ln.weight"},
        {"model.visual.merger.mlp.0.weight", "mm.0.weight"},
        {"model.visual.merger.mlp.2.bias", "mm.2.bias"},
        {v25 ? "model.visual.blocks.0.mlp.up_proj.weight" : "model.visual.blocks.0.mlp.fc1.weight",
         "v.blk.0.ffn_up.weight"},
        {v25 ? "model.visual.blocks.0.mlp.down_proj.bias" : "model.visual.blocks.0.mlp.fc2.bias",
         "v.blk.0.ffn_down.bias"},
    };
    if (v25) cases.push_back({"model.visual.blocks.0.mlp.gate_proj.weight", "v.blk.0.ffn_gate.weight"});
    for (const auto& [hf, gguf] : cases) {
      EXPECT_EQ(gguf_name_of(hf, f), gguf) << hf;
      EXPECT_EQ(hf_name_of(gguf, f), hf) << gguf;
    }
    // The official checkpoint spellings map too.
    EXPECT_EQ(gguf_name_of("model.layers.1.mlp.up_proj.weight", f), "blk.1.ffn_up.weight");
    EXPECT_EQ(gguf_name_of("visual.merger.ln_q.weight", f), "v.post_ln.weight");
    EXPECT_EQ(gguf_name_of("model.embed_tokens.weight", f), "token_embd.weight");
    // No q/k norms in Qwen2; the fused qkv has no single name but three.
    EXPECT_EQ(gguf_name_of("model.language_model.layers.0.self_attn.q_norm.weight", f), std::nullopt);
    EXPECT_EQ(hf_name_of("blk.0.attn_q_norm.weight", f), std::nullopt);
    EXPECT_EQ(gguf_name_of("visual.blocks.5.attn.qkv.weight", f), std::nullopt);
    const auto split = gguf_qkv_split_names("visual.blocks.5.attn.qkv.bias", f);
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ((*split)[0], "v.blk.5.attn_q.bias");
    EXPECT_EQ((*split)[2], "v.blk.5.attn_v.bias");
  }
  EXPECT_EQ(gguf_qkv_split_names("model.visual.blocks.0.attn.qkv.weight", ModelFamily::kQwen3VL),
            std::nullopt);
}

TEST(GgufQwen3vlNames, StorageTypesFollowTheConverter) {
  EXPECT_EQ(gguf_storage_dtype("blk.0.attn_q.weight", 2, DType::kBF16), DType::kBF16);
  EXPECT_EQ(gguf_storage_dtype("blk.0.attn_q_norm.weight", 1, DType::kBF16), DType::kF32);
  EXPECT_EQ(gguf_storage_dtype("v.blk.0.attn_qkv.bias", 1, DType::kF16), DType::kF32);
  EXPECT_EQ(gguf_storage_dtype("v.post_ln.weight", 1, DType::kF16), DType::kF32);
  EXPECT_EQ(gguf_storage_dtype("v.position_embd.weight", 2, DType::kF16), DType::kF32);
  EXPECT_EQ(gguf_storage_dtype("v.patch_embd.weight", 4, DType::kF16), DType::kF16);
  EXPECT_EQ(gguf_storage_dtype("v.patch_embd.weight.1", 4, DType::kBF16), DType::kF32);
  EXPECT_EQ(gguf_storage_dtype("mm.0.weight", 2, DType::kF16), DType::kF16);
}

TEST(GgufNames, LlavaLegacyConverterNames) {
  for (ModelFamily f : {ModelFamily::kLlava, ModelFamily::kLlavaNext}) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"language_model.model.embed_tokens.weight", "token_embd.weight"},
        {"language_model.lm_head.weight", "output.weight"},
        {"language_model.model.layers.1.self_attn.q_proj.weight", "blk.1.attn_q.weight"},
        {"language_model.model.layers.1.mlp.gate_proj.weight", "blk.1.ffn_gate.weight"},
        {"vision_tower.vision_model.embeddings.class_embedding", "v.class_embd"},
        {"vision_tower.vision_model.pre_layrnorm.bias", "v.pre_ln.bias"},
        {"vision_tower.vision_model.encoder.layers.2.self_attn.out_proj.weight", "v.blk.2.attn_out.weight"},
        // convert_image_encoder_to_gguf.py's swap: fc1 is "ffn_down".
        {"vision_tower.vision_model.encoder.layers.2.mlp.fc1.weight", "v.blk.2.ffn_down.weight"},
        {"vision_tower.vision_model.encoder.layers.2.mlp.fc2.bias", "v.blk.2.ffn_up.bias"},
        {"multi_modal_projector.linear_2.weight", "mm.2.weight"},
        {"image_newline", "model.image_newline"},
    };
    for (const auto& [hf, gguf] : cases) {
      EXPECT_EQ(gguf_name_of(hf, f), gguf) << hf;
      EXPECT_EQ(hf_name_of(gguf, f), hf) << gguf;
    }
    EXPECT_EQ(hf_name_of("v.image_newline", f), "image_newline");  // newer llama.cpp's spelling
    EXPECT_EQ(gguf_file_of("model.image_newline"), GgufPairFile::kMmproj);
    EXPECT_EQ(gguf_file_of("blk.0.attn_k.weight"), GgufPairFile::kText);
    EXPECT_EQ(gguf_qkv_split_names("vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight", f),
              std::nullopt);
  }
}

TEST(GgufNames, LlamaRopeRowsRoundTrip) {
  // Head of 8 rows: HF [0 1 2 3 | 4 5 6 7] (two halves) -> GGUF pairs (0,4) (1,5) (2,6) (3,7).
  const std::vector<int64_t> want = {0, 2, 4, 6, 1, 3, 5, 7};
  for (int64_t r = 0; r < 8; ++r) EXPECT_EQ(llama_gguf_row(r, 8), want[static_cast<size_t>(r)]) << r;
  for (int64_t r = 0; r < 24; ++r) EXPECT_EQ(llama_hf_row(llama_gguf_row(r, 8), 8), r) << r;
  EXPECT_EQ(llama_gguf_row(8 + 5, 8), 8 + 3);  // the second head moves within itself
  std::vector<float> rows(6 * 2);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i);
  TensorView t{"blk.0.attn_k.weight", DType::kF32, {6, 2}, rows.data(), rows.size() * 4};
  const std::vector<uint8_t> hf = llama_rows_to_hf(t, 6, "f");
  const auto* v = reinterpret_cast<const float*>(hf.data());
  for (int64_t g = 0; g < 6; ++g) EXPECT_EQ(v[llama_hf_row(g, 6) * 2 + 1], rows[static_cast<size_t>(g) * 2 + 1]);
  EXPECT_THROW(llama_rows_to_hf(t, 4, "f"), Error);  // 6 rows are not whole heads of 4
}

}  // namespace
}  // namespace kantu
