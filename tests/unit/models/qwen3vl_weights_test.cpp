#include "models/qwen3vl/weights.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "formats/safetensors.h"
#include "support/testdata.h"

namespace kantu::models::qwen3vl {
namespace {

namespace fs = std::filesystem;

// A copy of tiny-a whose weights file is rewritten by `edit` (drop or reshape tensors).
template <typename Edit>
std::string edited_tiny(const std::string& hint, Edit&& edit) {
  const std::string src = test::testdata("models/qwen3vl-tiny-a");
  const std::string dir = test::make_temp_dir(hint);
  fs::copy_file(src + "/config.json", dir + "/config.json");
  auto st = SafetensorsFile::open(src + "/model.safetensors");
  std::vector<TensorToWrite> out;
  for (const auto& [name, view] : st.tensors()) {
    TensorToWrite t{name, view.dtype, view.shape, view.data};
    if (edit(t)) out.push_back(t);
  }
  write_safetensors(dir + "/model.safetensors", out);
  return dir;
}

TEST(Qwen3VLWeights, BindsTheTinyModels) {
  for (const char* m : {"models/qwen3vl-tiny-a", "models/qwen3vl-tiny-c"}) {
    const std::string dir = test::testdata(m);
    Config c = load_config(dir);
    WeightStore store = WeightStore::open_folder(dir);
    Weights w = bind_weights(store, c);
    EXPECT_EQ(static_cast<int64_t>(w.vision.blocks.size()), c.vision.depth);
    EXPECT_EQ(static_cast<int64_t>(w.text.layers.size()), c.text.num_layers);
    EXPECT_EQ(w.vision.patch_embed.w.cols, 1536);
    EXPECT_EQ(w.text.layers[0].q_proj.w.rows, c.text.num_heads * c.text.head_dim);
    EXPECT_EQ(w.text.lm_head.data, w.text.embed_tokens.data);  // tied
    EXPECT_EQ(w.text.embed_tokens.dtype, DType::kBF16);        // mapped, not converted
    EXPECT_EQ(w.vision.deepstack.size(), c.vision.deepstack_visual_indexes.size());
  }
}

TEST(Qwen3VLWeights, OneErrorListsEveryMissingTensor) {
  const std::string dir = edited_tiny("missing", [](const TensorToWrite& t) {
    return t.name.find("layers.1.") == std::string::npos &&
           t.name != "model.visual.merger.norm.bias";
  });
  Config c = load_config(dir);
  WeightStore store = WeightStore::open_folder(dir);
  try {
    bind_weights(store, c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound) << msg;
    EXPECT_NE(msg.find("12 required tensors are missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.visual.merger.norm.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.language_model.layers.1.mlp.down_proj.weight"), std::string::npos);
  }
}

TEST(Qwen3VLWeights, WrongShapeNamesTheTensor) {
  const std::string dir = edited_tiny("shape", [](TensorToWrite& t) {
    if (t.name == "model.language_model.layers.0.self_attn.k_proj.weight") t.shape = {32, 128};
    return true;
  });
  Config c = load_config(dir);
  WeightStore store = WeightStore::open_folder(dir);
  try {
    bind_weights(store, c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::kCorrupt) << msg;
    EXPECT_NE(msg.find("layers.0.self_attn.k_proj.weight has shape [32, 128], expected [64, 64]"),
              std::string::npos)
        << msg;
  }
}

TEST(Qwen3VLWeights, UntiedHeadNeedsLmHead) {
  const std::string dir = edited_tiny("untied", [](const TensorToWrite&) { return true; });
  // Same weights, config says untied: lm_head.weight must be present.
  Json cfg = read_json_file(dir + "/config.json");
  cfg["tie_word_embeddings"] = false;
  test::write_text_file(dir + "/config.json", cfg.dump());
  Config c = load_config(dir);
  WeightStore store = WeightStore::open_folder(dir);
  try {
    bind_weights(store, c);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lm_head.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kantu::models::qwen3vl
