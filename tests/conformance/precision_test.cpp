// The accuracy budgets of --weights q8 / q4 and of --activations bf16 / int8 on the tiny
// models, over every golden case.
//
// For each case the prompt plus the golden's 20 greedy tokens is run teacher-forced
// (one prefill, logits at every position) with the stored BF16 weights and f32 activations
// (the path that matches transformers to ~1e-5) and with the precision under test (converted
// weights, rounded activations: f32 and int8 for q8 / q4, bf16 for the stored weights); per
// position we compare the top-1 token and KL(p_ref || p_test), and the logits' max
// row-relative error (max |Δ| / max |logit| of the row, the metric of the other conformance
// tests). The greedy decode (prefill + decode steps in that precision) must also reproduce
// the golden's tokens up to the first near-tie (rule below). The table printed at the end
// is the one in the README.
//
// These tiny models have random weights and nearly flat logits: golden top-1/top-2 margins go
// down to 0.001-0.02 while rounding the weights to BF16 alone moves tiny-a's logits by 0.8%
// of their range (tolerances.json). Q8_0 rounds weights ~4x coarser than BF16, Q4_0 ~60x,
// so flipped near-ties are expected and the budgets are stated with that in mind.
// Budgets (measured first, then set with margin; measured worst case in brackets, f32 / int8
// activations):
//   q8: logits row-relative error <= 0.08 [0.047 / 0.068]; mean KL <= 5e-3 [1.9e-3 /
//       3.1e-3]; the greedy ids equal the golden's up to the first step whose golden
//       top-1/top-2 margin is below twice the largest logit deviation measured for the case
//       (a near-tie within q8's noise; the continuations are not comparable after it, as in
//       the f32 test's rule).
//   q4: mean KL <= 1.0 [0.46 / 0.46]; top-1 agreement >= 15% [24% / 22%]; row-relative
//       error <= 1.0 [0.61 / 0.61]. Loose, because 4-bit weights on flat random models flip
//       most near-ties; a broken kernel (wrong nibble order or scale) gives unrelated logits
//       and fails them.
//   bf16 activations (stored weights): the q8 rule for greedy ids; row-relative error
//       <= 0.02 [0.010]; mean KL <= 5e-4 [8.5e-5]. Rounding x to bf16 (2^-9 relative) moves
//       the logits ~5x less than q8 weights do.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "conformance/golden.h"
#include "conformance/model_cache.h"
#include "models/model.h"

namespace kantu {
namespace {

constexpr double kQ8MaxRelErr = 0.08;
constexpr double kQ8MaxMeanKl = 5e-3;
constexpr double kQ4MaxRelErr = 1.0;
constexpr double kQ4MinTop1 = 0.15;
constexpr double kQ4MaxMeanKl = 1.0;
constexpr double kBf16MaxRelErr = 0.02;
constexpr double kBf16MaxMeanKl = 5e-4;

using kernels::Activations;

// One precision under test: weight type (kBF16 = as stored) and activations.
struct Precision {
  DType weights;
  Activations activations;
};

std::string label(const Precision& p) {
  return std::string(models::weight_type_name(p.weights)) + "/" + kernels::activations_name(p.activations);
}

models::Model& model_in(const std::string& name, const Precision& p) {
  static std::map<std::string, std::unique_ptr<models::Model>> cache;
  static const std::string cache_dir = test::make_temp_dir("quantized_weights_cache");
  auto& slot = cache[name + label(p)];
  if (!slot) {
    models::LoadOptions o;
    o.threads = 2;
    o.weights = {p.weights, p.weights, cache_dir, p.activations};
    slot = models::Model::load(test::model_path(name), o);
  }
  return *slot;
}

using Case = test::GoldenCase;

struct Stats {
  int64_t positions = 0, top1_agree = 0;
  double kl_sum = 0, kl_max = 0, rel_err_max = 0;
  double abs_dev_max = 0;           // largest |logit difference| over all positions
  double margin_at_divergence = 0;  // golden top-1/top-2 margin at that step
  bool greedy_identical = true;
  int first_divergence = -1;
};

void print_table_header_once() {
  static bool printed = false;
  if (printed) return;
  printed = true;
  std::printf("| model  | case            | weights/activations | pos | top-1   | mean KL   | max KL    | rel err  | max |dl| | greedy vs golden |\n");
}

// KL(p || q) of the softmaxes of two logit rows, in nats (double precision).
double kl_divergence(const float* p_logits, const float* q_logits, int64_t n) {
  double pmax = -INFINITY, qmax = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    pmax = std::max(pmax, double(p_logits[i]));
    qmax = std::max(qmax, double(q_logits[i]));
  }
  double pz = 0, qz = 0;
  for (int64_t i = 0; i < n; ++i) {
    pz += std::exp(p_logits[i] - pmax);
    qz += std::exp(q_logits[i] - qmax);
  }
  const double log_pz = std::log(pz), log_qz = std::log(qz);
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double lp = p_logits[i] - pmax - log_pz, lq = q_logits[i] - qmax - log_qz;
    kl += std::exp(lp) * (lp - lq);
  }
  return std::max(kl, 0.0);
}

class PrecisionBudget : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    test::FullModelGoldenFile golden = test::load_full_model_golden(c.model, c.name);
    meta_ = std::move(golden.meta);
    prompt_ = std::move(golden.ids);
    generated_ = meta_.at("generated_ids").get<std::vector<int64_t>>();
    images_ = test::golden_images(meta_);
  }

  std::vector<const models::VisionOutput*> encode(models::Model& m, models::VisionOutput* out) {
    if (images_.empty()) return {};
    std::vector<models::VisualInput> inputs;
    for (const auto& img : images_) inputs.push_back({img.pixel_values.data(), img.grid});
    *out = m.encode_images(inputs);
    return {out};
  }

  // Logits [prompt + generated - 1, vocab] of one teacher-forced prefill.
  std::vector<float> forced_logits(models::Model& m) {
    std::vector<int32_t> ids = prompt_;
    for (size_t i = 0; i + 1 < generated_.size(); ++i) ids.push_back(int32_t(generated_[i]));
    models::VisionOutput vision;
    auto vis = encode(m, &vision);
    auto seq = m.new_sequence(int64_t(ids.size()) + 1);
    std::vector<float> logits;
    m.prefill(*seq, ids, vis, {.all_logits = &logits});
    return logits;
  }

  // Greedy decode from the prompt; index of the first step that differs from the golden, or -1.
  int greedy_divergence(models::Model& m) {
    models::VisionOutput vision;
    auto vis = encode(m, &vision);
    auto seq = m.new_sequence(int64_t(prompt_.size() + generated_.size()) + 1);
    m.prefill(*seq, prompt_, vis);
    for (size_t step = 0; step < generated_.size(); ++step) {
      const int64_t got = test::argmax(seq->logits().data(), m.vocab_size());
      if (got != generated_[step]) return int(step);
      if (step + 1 < generated_.size()) m.decode(*seq, int32_t(got));
    }
    return -1;
  }

  Stats compare(const Precision& precision) {
    const Case& c = GetParam();
    models::Model& ref = test::cached_model(c.model);
    models::Model& q = model_in(c.model, precision);
    const std::vector<float> want = forced_logits(ref);
    const std::vector<float> got = forced_logits(q);
    const int64_t V = ref.vocab_size();
    Stats s;
    s.positions = int64_t(want.size()) / V;
    for (int64_t p = 0; p < s.positions; ++p) {
      const float* w = want.data() + p * V;
      const float* g = got.data() + p * V;
      s.top1_agree += test::argmax(w, V) == test::argmax(g, V);
      const double kl = kl_divergence(w, g, V);
      s.kl_sum += kl;
      s.kl_max = std::max(s.kl_max, kl);
      s.rel_err_max = std::max(s.rel_err_max, test::max_row_relative_error(g, w, 1, V));
      for (int64_t i = 0; i < V; ++i)
        s.abs_dev_max = std::max(s.abs_dev_max, std::fabs(double(g[i]) - double(w[i])));
    }
    s.first_divergence = greedy_divergence(q);
    s.greedy_identical = s.first_divergence < 0;
    if (!s.greedy_identical)
      s.margin_at_divergence =
          meta_.at("greedy_top1_minus_top2").at(size_t(s.first_divergence)).get<double>();
    print_table_header_once();
    std::printf("| %-6s | %-15s | %-19s | %3lld | %6.1f%% | %9.2e | %9.2e | %8.4f | %7.3f | %s |\n",
                c.model.c_str(), c.name.c_str(), label(precision).c_str(),
                static_cast<long long>(s.positions), 100.0 * s.top1_agree / s.positions,
                s.kl_sum / s.positions, s.kl_max, s.rel_err_max, s.abs_dev_max,
                s.greedy_identical
                    ? "20/20"
                    : (std::to_string(s.first_divergence) + "/20 equal, then differs at golden margin " +
                       std::to_string(s.margin_at_divergence).substr(0, 5))
                          .c_str());
    return s;
  }

  Json meta_;
  std::vector<int32_t> prompt_;
  std::vector<int64_t> generated_;
  std::vector<test::TestImage> images_;
};

// Greedy ids equal the golden's up to the first near-tie within the precision's own noise.
void expect_greedy_up_to_a_near_tie(const Stats& s) {
  if (s.greedy_identical) return;
  EXPECT_LT(s.margin_at_divergence, 2 * s.abs_dev_max)
      << "greedy ids differ from the golden at step " << s.first_divergence
      << ", where the golden margin " << s.margin_at_divergence
      << " is beyond the measured logit noise " << s.abs_dev_max;
}

TEST_P(PrecisionBudget, Q8KeepsGreedyTokensAndLogits) {
  for (Activations a : {Activations::kF32, Activations::kInt8}) {
    SCOPED_TRACE(kernels::activations_name(a));
    const Stats s = compare({DType::kQ8_0, a});
    expect_greedy_up_to_a_near_tie(s);
    EXPECT_LE(s.rel_err_max, kQ8MaxRelErr);
    EXPECT_LE(s.kl_sum / s.positions, kQ8MaxMeanKl);
  }
}

TEST_P(PrecisionBudget, Q4StaysWithinItsBudget) {
  for (Activations a : {Activations::kF32, Activations::kInt8}) {
    SCOPED_TRACE(kernels::activations_name(a));
    const Stats s = compare({DType::kQ4_0, a});
    EXPECT_LE(s.rel_err_max, kQ4MaxRelErr);
    EXPECT_GE(double(s.top1_agree) / s.positions, kQ4MinTop1);
    EXPECT_LE(s.kl_sum / s.positions, kQ4MaxMeanKl);
  }
}

TEST_P(PrecisionBudget, Bf16ActivationsKeepGreedyTokensAndLogits) {
  const Stats s = compare({DType::kBF16, Activations::kBF16});
  expect_greedy_up_to_a_near_tie(s);
  EXPECT_LE(s.rel_err_max, kBf16MaxRelErr);
  EXPECT_LE(s.kl_sum / s.positions, kBf16MaxMeanKl);
}

INSTANTIATE_TEST_SUITE_P(Qwen3VL, PrecisionBudget,
                         ::testing::Values(Case{"tiny-a", "text_only"}, Case{"tiny-a", "one_image"},
                                           Case{"tiny-a", "two_images"},
                                           Case{"tiny-a", "image_multiturn"},
                                           Case{"tiny-c", "text_only"}, Case{"tiny-c", "img_256x256"},
                                           Case{"tiny-c", "img_288x352"},
                                           Case{"tiny-c", "img_384x256"}),
                         test::case_name<Case>);

}  // namespace
}  // namespace kantu
