// The whole model (vision + language model) of every family against the transformers
// goldens (goldens/<family>/<model>/full_model/<case>): the prompt ids from the chat
// format and kantu's preprocessing, 3-D position ids and rope deltas, the image
// embeddings, the per-layer hidden states, the logits at every golden position, the first
// generation steps' logits, and the 20 greedy tokens.
//
// Metric for tensors and logits: per row, max |kantu - golden| / max |golden| (the row's
// largest absolute logit); tolerance 1e-4 in f32 mode (expected ~1e-5).
// Greedy ids must be identical; the only divergence tolerated is at a step whose golden
// top-1/top-2 logit margin is below 1e-4 (a tie within f32 noise), after which the two
// continuations are no longer comparable and the check stops.
#include <gtest/gtest.h>

#include <ostream>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "formats/model_folder.h"
#include "models/model.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"
#include "text/tokenizer.h"

namespace kantu {
namespace {

using models::GridTHW;
constexpr double kTol = 1e-4;
constexpr double kTieMargin = 1e-4;

// A golden case; its image pixel_values come from a vision golden holding the same image
// (checked by file name), or, with pixels_from "", from kantu's own preprocessing of the
// case's images.
struct Case : test::GoldenCase {
  std::string pixels_from;
};

// For gtest: the golden case, as GoldenCase prints it (see there why this is needed).
void PrintTo(const Case& c, std::ostream* os) { test::PrintTo(c, os); }

class FullModelGolden : public test::FullModelGoldenTest<Case> {
 protected:
  void SetUp() override {
    test::FullModelGoldenTest<Case>::SetUp();
    const Case& c = GetParam();
    model_ = &test::cached_model(c.model);
    if (grids_.empty()) return;
    std::vector<models::VisualInput> inputs;
    if (!c.pixels_from.empty()) {
      const test::VisionGoldenFile vg = test::load_vision_golden(c.model, c.pixels_from);
      ASSERT_EQ(vg.meta.at("images"), meta_.at("images"))
          << "the vision golden holds a different image";
      images_.push_back({to_f32(vg.tensors.get("pixel_values")), grids_.at(0)});
    } else {
      images_ = test::golden_images(meta_, c.model);
    }
    ASSERT_EQ(images_.size(), grids_.size());
    for (size_t i = 0; i < grids_.size(); ++i) {
      ASSERT_EQ(images_[i].grid.patches(), grids_[i].patches()) << "image " << i;
      ASSERT_EQ(images_[i].grid.h, grids_[i].h) << "image " << i;
      inputs.push_back({images_[i].pixel_values.data(), grids_[i]});
    }
    vision_ = model_->encode_images(inputs);
    has_vision_ = true;
  }

  std::vector<const models::VisionOutput*> vision_list() const {
    if (!has_vision_) return {};
    return {&vision_};
  }

  models::Model* model_ = nullptr;
  std::vector<test::TestImage> images_;
  models::VisionOutput vision_;
  bool has_vision_ = false;
};

TEST_P(FullModelGolden, PrefillMatchesPositionsHiddenStatesAndLogits) {
  const int64_t L = static_cast<int64_t>(ids_.size());
  const int64_t V = model_->vocab_size();
  auto seq = model_->new_sequence(L + 32);
  std::vector<float> all_logits;
  models::Dumps dumps;
  model_->prefill(*seq, ids_, vision_list(), {.all_logits = &all_logits, .dumps = &dumps});

  // The image embeddings, where the golden keeps them (all images concatenated).
  if (golden_.has("image_embeds")) {
    test::expect_close("image_embeds", {vision_.n_tokens, vision_.hidden}, vision_.embeds,
                       golden_.get("image_embeds"), kTol);
  }

  // 3-D positions [3, 1, L] and rope delta.
  std::vector<int64_t> want_pos = test::to_i64(golden_.get("position_ids"));
  const auto& got_pos = dumps.at("text.position_ids").data;
  ASSERT_EQ(want_pos.size(), got_pos.size());
  for (size_t i = 0; i < want_pos.size(); ++i) {
    ASSERT_EQ(int64_t(got_pos[i]), want_pos[i]) << "position_ids axis " << i / L << " token "
                                                << i % L;
  }
  EXPECT_EQ(seq->rope_delta(), test::to_i64(golden_.get("rope_deltas")).at(0));
  EXPECT_EQ(seq->length(), L);

  // Per-layer hidden states (cases that carry them). transformers 4.57's Qwen2/2.5-VL
  // text model ends hidden_states with the final norm's output, Qwen3-VL's with the last
  // layer's; their goldens say layer_output where Qwen3-VL's say _pre_deepstack.
  int64_t last = -1;
  for (const auto& [name, view] : golden_.tensors()) {
    if (name.rfind("hf_hidden_states.", 0) == 0) last = std::max<int64_t>(last, std::stoll(name.substr(17)));
  }
  const std::string last_hidden = "hf_hidden_states." + std::to_string(last);
  const bool normed_last = model_->family() != "qwen3_vl";
  int checked = 0;
  for (const auto& [name, view] : golden_.tensors()) {
    std::string ours;
    if (name == last_hidden && normed_last) {
      ours = "text.final_norm";
    } else if (name.rfind("hf_hidden_states.", 0) == 0) {
      ours = "text.hidden_states." + name.substr(17);
    } else if (name.rfind("layer_input.", 0) == 0 || name.rfind("layer_output_pre_deepstack.", 0) == 0) {
      ours = "text." + name;
    } else if (name.rfind("layer_output.", 0) == 0) {
      ours = "text.layer_output_pre_deepstack." + name.substr(13);
    } else {
      continue;
    }
    SCOPED_TRACE(name);
    ASSERT_TRUE(dumps.count(ours)) << "kantu has no dump " << ours;
    test::expect_close(name, dumps.at(ours).shape, dumps.at(ours).data, view, kTol);
    ++checked;
  }
  if (meta_.at("tensors").contains("hf_hidden_states.0") || golden_.has("layer_input.0")) {
    EXPECT_GT(checked, 0);
  }

  // Logits at the golden positions.
  std::vector<int64_t> positions = test::to_i64(golden_.get("logits_positions"));
  const TensorView& want = golden_.get("logits");
  ASSERT_EQ(want.shape, (std::vector<int64_t>{int64_t(positions.size()), V}));
  for (size_t i = 0; i < positions.size(); ++i) {
    ASSERT_LT(positions[i], L);
    const double err = test::max_row_relative_error(all_logits.data() + positions[i] * V,
                                                    want.as<float>() + i * V, 1, V);
    EXPECT_LE(err, kTol) << "logits at position " << positions[i];
  }
  // The last-position logits the sequence keeps are the same row.
  ASSERT_EQ(int64_t(seq->logits().size()), V);
  EXPECT_TRUE(std::equal(seq->logits().begin(), seq->logits().end(),
                         all_logits.begin() + (L - 1) * V));
}

// The golden's prompt ids from its messages: the family's chat format, image token
// counts from kantu's preprocessing, the tokenizer.
TEST_P(FullModelGolden, PromptIdsFromMessages) {
  if (!meta_.contains("messages")) GTEST_SKIP() << "the golden keeps no messages";
  const std::string dir = test::model_path(GetParam().model);
  const text::Tokenizer tokenizer = text::Tokenizer::load(dir);
  const auto messages = text::parse_messages(
      text::OrderedJson::parse(meta_.at("messages").dump()), "golden");
  const text::RenderedPrompt prompt = model_->profile().chat_format().render(messages, {});
  if (meta_.contains("prompt_text")) {
    EXPECT_EQ(prompt.text(), meta_.at("prompt_text").get<std::string>());
  }
  text::VisionTokenCounts counts;
  for (const test::TestImage& img : images_) {
    counts.image_tokens.push_back(img.grid.patches() / (model_->merge_size() * model_->merge_size()));
  }
  EXPECT_EQ(text::prompt_token_ids(tokenizer, text::expand_vision_tokens(prompt, counts)), ids_);
}

TEST_P(FullModelGolden, GreedyGenerationMatches) {
  const int64_t L = static_cast<int64_t>(ids_.size());
  const int64_t V = model_->vocab_size();
  std::vector<int64_t> want_ids = meta_.at("generated_ids").get<std::vector<int64_t>>();
  std::vector<double> margins = meta_.at("greedy_top1_minus_top2").get<std::vector<double>>();
  ASSERT_EQ(want_ids.size(), margins.size());
  // Some goldens drop the step logits (step 0 equals the last prompt row, checked above).
  const TensorView* step_logits =
      golden_.has("generate_step_logits") ? &golden_.get("generate_step_logits") : nullptr;
  const int64_t n_step_logits = step_logits ? step_logits->shape.at(0) : 0;

  auto seq = model_->new_sequence(L + int64_t(want_ids.size()) + 1);
  model_->prefill(*seq, ids_, vision_list());
  for (size_t step = 0; step < want_ids.size(); ++step) {
    std::span<const float> logits = seq->logits();
    if (int64_t(step) < n_step_logits) {
      const double err = test::max_row_relative_error(logits.data(),
                                                      step_logits->as<float>() + step * V, 1, V);
      EXPECT_LE(err, kTol) << "generate_step_logits[" << step << "]";
    }
    const int64_t got = test::argmax(logits.data(), V);
    if (got != want_ids[step]) {
      EXPECT_LT(margins[step], kTieMargin)
          << "greedy token " << step << ": kantu " << got << ", golden " << want_ids[step]
          << " (golden top-1/top-2 margin " << margins[step] << ")";
      return;  // a tolerated tie: the continuations differ from here on
    }
    if (step + 1 < want_ids.size()) model_->decode(*seq, int32_t(got));
  }
  EXPECT_EQ(seq->length(), L + int64_t(want_ids.size()) - 1);
}

INSTANTIATE_TEST_SUITE_P(Qwen3VL, FullModelGolden,
                         ::testing::Values(Case{{"tiny-a", "text_only"}, ""},
                                           Case{{"tiny-a", "one_image"}, "square_224x224"},
                                           Case{{"tiny-a", "two_images"}, ""},
                                           Case{{"tiny-a", "image_multiturn"}, ""},
                                           Case{{"tiny-c", "text_only"}, ""},
                                           Case{{"tiny-c", "img_256x256"}, ""},
                                           Case{{"tiny-c", "img_288x352"}, ""},
                                           Case{{"tiny-c", "img_384x256"}, ""}),
                         test::case_name<Case>);

INSTANTIATE_TEST_SUITE_P(Qwen25VL, FullModelGolden,
                         ::testing::Values(Case{{"qwen25vl/tiny-a", "text_only"}, ""},
                                           Case{{"qwen25vl/tiny-a", "one_image"}, ""},
                                           Case{{"qwen25vl/tiny-a", "two_images"}, ""},
                                           Case{{"qwen25vl/tiny-a", "image_multiturn"}, ""}),
                         test::case_name<Case>);

INSTANTIATE_TEST_SUITE_P(Qwen2VL, FullModelGolden,
                         ::testing::Values(Case{{"qwen2vl/tiny-a", "text_only"}, ""},
                                           Case{{"qwen2vl/tiny-a", "one_image"}, ""},
                                           Case{{"qwen2vl/tiny-a", "two_images"}, ""}),
                         test::case_name<Case>);

}  // namespace
}  // namespace kantu
