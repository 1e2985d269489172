// The GGUF pair llama.cpp's converter writes for a tiny model must run exactly like the
// Hugging Face folder it came from: the same config, the same weights under the same
// names, so the same logits and greedy tokens on the golden prompts (text and images).
//
//   BF16 file: matrices keep their BF16 bytes; norms, biases and the position table are
//     stored F32 (exact widening), the patch kernel F32 (exact): logits must be equal
//     bit for bit.
//   F32 / F16 files: the matrices change type (F32 exact, F16 rounds the BF16 values),
//     so other kernels run: logits within the golden tolerance (1e-4 relative per row)
//     of the folder's, greedy tokens identical.
//   Q8_0 / Q4_0 files (matrices and token_embd quantized as llama-quantize does, with
//     the kernels' ggml-exact quantizer): the --weights q8 / q4 accuracy budgets of
//     precision_test.cpp against the folder's BF16 logits (row-relative error and
//     mean KL; Q4_0 also top-1 agreement). Greedy tokens are not compared: the tiny
//     models' near-ties flip under quantization noise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <ostream>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "core/error.h"
#include "formats/model_folder.h"
#include "formats/safetensors.h"
#include "models/model.h"
#include "models/qwen2vl/config.h"
#include "models/qwen3vl/config.h"
#include "support/gguf_builder.h"
#include "support/gguf_pair.h"
#include "support/testdata.h"

namespace kantu {
namespace {

// Runs `fn`, expects an Error of `kind` whose message contains each fragment.
template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << "message lacks '" << f << "': " << e.what();
    }
  }
}

struct Case {
  std::string model;
  DType weights;
};

// For gtest (ctest's listing, failures): "<model> <weights>", not the raw bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.model << ' ' << dtype_name(c.weights); }

std::string test_name(const ::testing::TestParamInfo<Case>& info) {
  return test::param_name({info.param.model, dtype_name(info.param.weights)});
}

// One GGUF pair per (model, dtype), written once per test binary.
const test::GgufPair& gguf_files(const Case& c) {
  static std::map<std::string, test::GgufPair> cache;
  auto it = cache.find(c.model + dtype_name(c.weights));
  if (it == cache.end()) {
    const std::string dir = test::make_temp_dir("gguf_pair");
    it = cache.emplace(c.model + dtype_name(c.weights),
                       test::write_gguf_pair(test::model_path(c.model), dir, c.weights)).first;
  }
  return it->second;
}

models::Model& gguf_model(const Case& c) {
  static std::map<std::string, std::unique_ptr<models::Model>> cache;
  auto& slot = cache[c.model + dtype_name(c.weights)];
  if (!slot) {
    const test::GgufPair& pair = gguf_files(c);
    slot = models::Model::load(ModelFolder::open_gguf(pair.model, pair.mmproj, {}), {.threads = 2});
  }
  return *slot;
}

// The prompt of a golden case and its images, encoded by `model`.
struct Prompt {
  std::vector<int32_t> ids;
  std::vector<test::TestImage> images;
};

Prompt golden_prompt(const test::FullModelGoldenFile& golden, const std::string& model) {
  return {golden.ids, test::golden_images(golden.meta, model)};
}
Prompt golden_prompt(const std::string& model, const std::string& name) {
  return golden_prompt(test::load_full_model_golden(model, name), model);
}

struct Outputs {
  std::vector<float> logits;      // [L, V]
  std::vector<int32_t> greedy;    // 8 tokens
};

Outputs run(models::Model& m, const Prompt& p) {
  std::vector<models::VisualInput> inputs;
  for (const auto& img : p.images) inputs.push_back({img.pixel_values.data(), img.grid});
  models::VisionOutput vision;
  std::vector<const models::VisionOutput*> vlist;
  if (!inputs.empty()) {
    vision = m.encode_images(inputs);
    vlist.push_back(&vision);
  }
  Outputs r;
  auto seq = m.new_sequence(int64_t(p.ids.size()) + 16);
  m.prefill(*seq, p.ids, vlist, {.all_logits = &r.logits});
  for (int step = 0; step < 8; ++step) {
    const auto logits = seq->logits();
    const auto id = static_cast<int32_t>(test::argmax(logits.data(), int64_t(logits.size())));
    r.greedy.push_back(id);
    m.decode(*seq, id);
  }
  return r;
}

// KL(softmax(p) || softmax(q)) of two logit rows.
double kl_divergence(const float* p, const float* q, int64_t n) {
  const double mp = *std::max_element(p, p + n), mq = *std::max_element(q, q + n);
  double zp = 0, zq = 0;
  for (int64_t i = 0; i < n; ++i) {
    zp += std::exp(p[i] - mp);
    zq += std::exp(q[i] - mq);
  }
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double lp = p[i] - mp - std::log(zp), lq = q[i] - mq - std::log(zq);
    kl += std::exp(lp) * (lp - lq);
  }
  return kl;
}

class GgufPair : public ::testing::TestWithParam<Case> {};

// Qwen2/2.5-VL: the config the pair's metadata stands for equals the folder's.
void expect_same_qwen2vl_config(const Case& c) {
  const test::GgufPair& pair = gguf_files(c);
  const auto want = models::qwen2vl::config_of(ModelFolder::open(test::model_path(c.model), {.load_weights = false}));
  const auto got = models::qwen2vl::config_of(
      ModelFolder::open_gguf(pair.model, pair.mmproj, {.load_weights = false}));
  EXPECT_EQ(got.variant, want.variant);
  EXPECT_EQ(got.text.hidden_size, want.text.hidden_size);
  EXPECT_EQ(got.text.num_layers, want.text.num_layers);
  EXPECT_EQ(got.text.num_kv_heads, want.text.num_kv_heads);
  EXPECT_EQ(got.text.head_dim, want.text.head_dim);
  EXPECT_EQ(got.text.rope.section, want.text.rope.section);
  EXPECT_FLOAT_EQ(got.text.norm_eps, want.text.norm_eps);
  EXPECT_EQ(got.text.tie_word_embeddings, want.text.tie_word_embeddings);
  EXPECT_EQ(got.vision.depth, want.vision.depth);
  EXPECT_EQ(got.vision.hidden_size, want.vision.hidden_size);
  EXPECT_EQ(got.vision.intermediate_size, want.vision.intermediate_size);
  EXPECT_EQ(got.vision.out_hidden_size, want.vision.out_hidden_size);
  EXPECT_EQ(got.vision.window, want.vision.window);
  EXPECT_EQ(got.vision.fullatt_block_indexes, want.vision.fullatt_block_indexes);
  EXPECT_EQ(got.vision.norm, want.vision.norm);
  EXPECT_EQ(got.vision.mlp.act, want.vision.mlp.act);
  EXPECT_DOUBLE_EQ(got.tokens_per_second, want.tokens_per_second);
  EXPECT_EQ(got.image_token_id, want.image_token_id);
}

TEST_P(GgufPair, ConfigMatchesTheFolder) {
  const Case& c = GetParam();
  if (c.model.find('/') != std::string::npos) return expect_same_qwen2vl_config(c);
  const test::GgufPair& pair = gguf_files(c);
  const auto want = models::qwen3vl::load_config(test::model_path(c.model));
  const auto got = models::qwen3vl::config_of(
      ModelFolder::open_gguf(pair.model, pair.mmproj, {.load_weights = false}));
  EXPECT_EQ(got.text.hidden_size, want.text.hidden_size);
  EXPECT_EQ(got.text.num_layers, want.text.num_layers);
  EXPECT_EQ(got.text.num_kv_heads, want.text.num_kv_heads);
  EXPECT_EQ(got.text.head_dim, want.text.head_dim);
  EXPECT_EQ(got.text.vocab_size, want.text.vocab_size);
  EXPECT_EQ(got.text.mrope_section, want.text.mrope_section);
  EXPECT_FLOAT_EQ(got.text.rms_norm_eps, want.text.rms_norm_eps);
  EXPECT_DOUBLE_EQ(got.text.rope_theta, want.text.rope_theta);
  EXPECT_EQ(got.vision.depth, want.vision.depth);
  EXPECT_EQ(got.vision.hidden_size, want.vision.hidden_size);
  EXPECT_EQ(got.vision.num_position_embeddings, want.vision.num_position_embeddings);
  EXPECT_EQ(got.vision.deepstack_visual_indexes, want.vision.deepstack_visual_indexes);
  EXPECT_EQ(got.tie_word_embeddings, want.tie_word_embeddings);
  EXPECT_EQ(got.image_token_id, want.image_token_id);
  EXPECT_EQ(got.vision_start_token_id, want.vision_start_token_id);
  EXPECT_EQ(gguf_model(c).eos_ids(), test::cached_model(c.model).eos_ids());
}

TEST_P(GgufPair, SameLogitsAndGreedyTokensAsTheFolder) {
  const Case& c = GetParam();
  const bool exact = c.weights == DType::kBF16;
  for (const char* name : {"text_only", c.model == "tiny-c" ? "img_288x352" : "two_images"}) {
    SCOPED_TRACE(name);
    const Prompt p = golden_prompt(c.model, name);
    const Outputs want = run(test::cached_model(c.model), p);
    const Outputs got = run(gguf_model(c), p);
    ASSERT_EQ(got.logits.size(), want.logits.size());
    const int64_t V = test::cached_model(c.model).vocab_size();
    const int64_t rows = int64_t(want.logits.size()) / V;
    const double rel = test::max_row_relative_error(got.logits.data(), want.logits.data(), rows, V);
    if (exact) {
      EXPECT_TRUE(got.logits == want.logits) << "logits differ from the folder's";
    } else if (!dtype_is_quantized(c.weights)) {
      EXPECT_LE(rel, 1e-4);
    }
    if (!dtype_is_quantized(c.weights)) {
      EXPECT_EQ(got.greedy, want.greedy);
      continue;
    }
    double kl = 0;
    int64_t top1 = 0;
    for (int64_t r = 0; r < rows; ++r) {
      kl += kl_divergence(want.logits.data() + r * V, got.logits.data() + r * V, V);
      top1 += test::argmax(want.logits.data() + r * V, V) == test::argmax(got.logits.data() + r * V, V);
    }
    std::printf("[ gguf %s %s ] rows %lld: max rel err %.4f, mean KL %.2e, top-1 %.2f\n",
                dtype_name(c.weights), name, static_cast<long long>(rows), rel, kl / rows,
                double(top1) / rows);
    if (c.weights == DType::kQ8_0) {
      EXPECT_LE(rel, 0.08);
      EXPECT_LE(kl / rows, 5e-3);
    } else {
      EXPECT_LE(rel, 1.0);
      EXPECT_LE(kl / rows, 1.0);
      EXPECT_GE(double(top1) / rows, 0.15);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Qwen3VL, GgufPair,
                         ::testing::Values(Case{"tiny-a", DType::kBF16}, Case{"tiny-a", DType::kF32},
                                           Case{"tiny-a", DType::kF16}, Case{"tiny-c", DType::kBF16},
                                           Case{"tiny-a", DType::kQ8_0}, Case{"tiny-c", DType::kQ8_0},
                                           Case{"tiny-a", DType::kQ4_0}),
                         test_name);
INSTANTIATE_TEST_SUITE_P(Qwen2Families, GgufPair,
                         ::testing::Values(Case{"qwen25vl/tiny-a", DType::kBF16},
                                           Case{"qwen25vl/tiny-a", DType::kF16},
                                           Case{"qwen25vl/tiny-a", DType::kQ8_0},
                                           Case{"qwen2vl/tiny-a", DType::kBF16}),
                         test_name);

// The Qwen2/2.5-VL pairs against the transformers goldens directly (their folders are
// checked the same way in full_model_test.cpp): logits at the golden positions within
// 1e-4 row-relative and the golden's greedy ids.
using test::GoldenCase;

class GgufPairGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GgufPairGolden, LogitsAndGreedyIdsMatchTransformers) {
  const GoldenCase& g = GetParam();
  models::Model& m = gguf_model({g.model, DType::kBF16});
  const test::FullModelGoldenFile file = test::load_full_model_golden(g.model, g.name);
  const SafetensorsFile& golden = file.tensors;
  const Json& meta = file.meta;
  const Prompt p = golden_prompt(file, g.model);
  const Outputs got = run(m, p);
  const int64_t V = m.vocab_size();
  const std::vector<int64_t> positions = test::to_i64(golden.get("logits_positions"));
  for (size_t i = 0; i < positions.size(); ++i) {
    const double err = test::max_row_relative_error(got.logits.data() + positions[i] * V,
                                                    golden.get("logits").as<float>() + i * V, 1, V);
    EXPECT_LE(err, 1e-4) << "logits at position " << positions[i];
  }
  const auto want = meta.at("generated_ids").get<std::vector<int32_t>>();
  const auto margins = meta.at("greedy_top1_minus_top2").get<std::vector<double>>();
  for (size_t k = 0; k < got.greedy.size(); ++k) {
    if (got.greedy[k] != want[k]) {
      EXPECT_LT(margins[k], 1e-4) << "greedy token " << k << ": " << got.greedy[k] << " vs " << want[k];
      break;  // a tolerated tie: the continuations differ from here on
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Qwen2Families, GgufPairGolden,
                         ::testing::Values(GoldenCase{"qwen25vl/tiny-a", "text_only"},
                                           GoldenCase{"qwen25vl/tiny-a", "one_image"},
                                           GoldenCase{"qwen25vl/tiny-a", "image_multiturn"},
                                           GoldenCase{"qwen2vl/tiny-a", "two_images"}),
                         test::case_name<GoldenCase>);

// ---- what a broken or mismatched pair gives ----

class GgufPairErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(test::make_temp_dir("gguf_errors"));
    pair_ = new test::GgufPair(
        test::write_gguf_pair(test::model_path("tiny-a"), *dir_, DType::kBF16));
  }
  static std::string copy_cut(const std::string& path, size_t keep) {
    const std::string bytes = read_file(path);
    const std::string out = *dir_ + "/cut_" + std::to_string(keep) + ".gguf";
    test::write_text_file(out, bytes.substr(0, keep));
    return out;
  }
  static std::string* dir_;
  static test::GgufPair* pair_;
};
std::string* GgufPairErrors::dir_ = nullptr;
test::GgufPair* GgufPairErrors::pair_ = nullptr;

TEST_F(GgufPairErrors, TruncatedFilesNameTheFile) {
  const size_t size = read_file(pair_->mmproj).size();
  for (size_t keep : {size_t(3), size_t(100), size / 2, size - 1}) {
    const std::string cut = copy_cut(pair_->mmproj, keep);
    expect_error([&] { ModelFolder::open_gguf(pair_->model, cut, {}); }, ErrorKind::kCorrupt,
                       {cut});
  }
}

TEST_F(GgufPairErrors, SwappedOrWrongFiles) {
  expect_error([&] { ModelFolder::open_gguf(pair_->mmproj, pair_->model, {}); },
                     ErrorKind::kInvalidArgument, {pair_->mmproj, "--mmproj"});
  expect_error([&] { ModelFolder::open_gguf(pair_->model, pair_->model, {}); },
                     ErrorKind::kInvalidArgument, {"not a vision projector"});
  expect_error([&] { ModelFolder::open_any(test::model_path("tiny-a"), pair_->mmproj, {}); },
                     ErrorKind::kInvalidArgument, {"--mmproj"});
  const std::string other = *dir_ + "/gemma3.gguf";
  test::GgufBuilder().str("general.architecture", "gemma3").write(other);
  expect_error([&] { ModelFolder::open_gguf(other, "", {}); }, ErrorKind::kUnsupported,
                     {other, "\"gemma3\"", "\"qwen3vl\", \"qwen2vl\"", "LLaVA (\"llama\")"});
}

TEST_F(GgufPairErrors, MissingMmprojTensorsAreNamedAsInTheFile) {
  const std::string dir = test::make_temp_dir("gguf_missing");
  const auto pair = test::write_gguf_pair(test::model_path("tiny-a"), dir, DType::kBF16,
                                          {"v.blk.2.attn_qkv.weight", "v.deepstack.1.fc2.bias"});
  expect_error([&] { models::Model::load(ModelFolder::open_gguf(pair.model, pair.mmproj, {})); },
               ErrorKind::kNotFound,
               {"2 required tensors are missing", "model.visual.blocks.2.attn.qkv.weight",
                "GGUF 'v.blk.2.attn_qkv.weight' in " + pair.mmproj, "v.deepstack.1.fc2.bias"});
  const auto half = test::write_gguf_pair(test::model_path("tiny-a"), test::make_temp_dir("gguf_half"), DType::kBF16,
                                          {"v.patch_embd.weight.1"});
  expect_error([&] { ModelFolder::open_gguf(half.model, half.mmproj, {}); }, ErrorKind::kCorrupt,
               {"v.patch_embd.weight.1"});
}

TEST_F(GgufPairErrors, MetadataThatDisagreesWithATensorNamesBoth) {
  // qwen3vl.feed_forward_length 128 -> 256: the MLP matrices no longer fit the config.
  std::string bytes = read_file(pair_->model);
  const std::string key = "qwen3vl.feed_forward_length";
  const size_t at = bytes.find(key);
  ASSERT_NE(at, std::string::npos);
  const size_t value = at + key.size() + 4;  // after the u32 type tag
  ASSERT_EQ(static_cast<uint8_t>(bytes[value]), 128);
  bytes[value] = 0;
  bytes[value + 1] = 1;  // 256, little-endian
  const std::string edited = *dir_ + "/ffn256.gguf";
  test::write_text_file(edited, bytes);
  expect_error([&] { models::Model::load(ModelFolder::open_gguf(edited, pair_->mmproj, {})); },
               ErrorKind::kCorrupt,
               {"model.language_model.layers.0.mlp.gate_proj.weight",
                "GGUF 'blk.0.ffn_gate.weight' in " + edited, "[128, 64]", "[256, 64]"});
}

TEST_F(GgufPairErrors, TextOnlyModelRunsTextAndRefusesImages) {
  auto m = models::Model::load(ModelFolder::open_gguf(pair_->model, "", {}), {.threads = 2});
  EXPECT_FALSE(m->has_vision());
  const Prompt p = golden_prompt("tiny-a", "text_only");
  const Outputs got = run(*m, p);
  const Outputs want = run(test::cached_model("tiny-a"), p);
  EXPECT_TRUE(got.logits == want.logits);
  const std::vector<float> pixels(4 * 1536, 0.0f);
  expect_error([&] { m->encode_images({{pixels.data(), {1, 2, 2}}}); },
                     ErrorKind::kInvalidArgument, {"text-only", "--mmproj"});
}

// LLaVA's pair (text arch "llama" + projector "mlp"; its goldens run in llava_test.cpp):
// identification and what a mismatched or incomplete pair gives.
TEST(GgufLlavaPair, IdentifiesBothVariantsAndRefusesMismatches) {
  const auto next = test::write_gguf_pair(test::model_path("llava-next/tiny-a"), test::make_temp_dir("llava_next"), DType::kF16);
  const auto v15 = test::write_gguf_pair(test::model_path("llava15/tiny-a"), test::make_temp_dir("llava_15"), DType::kF16);
  const ModelFolder n = ModelFolder::open_gguf(next.model, next.mmproj, {.load_weights = false});
  EXPECT_EQ(n.family(), ModelFamily::kLlavaNext);
  EXPECT_EQ(n.architecture(), "LlavaNextForConditionalGeneration");
  EXPECT_EQ(ModelFolder::open_gguf(v15.model, v15.mmproj, {.load_weights = false}).family(), ModelFamily::kLlava);
  const ModelFolder text_only = ModelFolder::open_gguf(v15.model, "", {.load_weights = false});
  EXPECT_EQ(text_only.family(), ModelFamily::kLlava);
  EXPECT_FALSE(text_only.has_vision());

  const test::GgufPair qwen = gguf_files({"tiny-a", DType::kBF16});
  expect_error([&] { ModelFolder::open_gguf(qwen.model, v15.mmproj, {}); }, ErrorKind::kInvalidArgument,
               {v15.mmproj, "(mlp) is not the vision projector", "(qwen3vl)"});
  expect_error([&] { ModelFolder::open_gguf(v15.model, qwen.mmproj, {}); }, ErrorKind::kInvalidArgument,
               {"(qwen3vl_merger) is not the vision projector", "(llama)"});

  // A vocabulary without <image> (the original LLaVA's): no place for the image features.
  std::string bytes = read_file(v15.model);
  const size_t at = bytes.find("<image>");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] = 'X';
  const std::string edited = test::make_temp_dir("llava_noimage") + "/model.gguf";
  test::write_text_file(edited, bytes);
  expect_error([&] { ModelFolder::open_gguf(edited, v15.mmproj, {}); }, ErrorKind::kUnsupported,
               {edited, "no <image> token"});
}

}  // namespace
}  // namespace kantu
