#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace kantu::runtime {

namespace {

// Candidate order: higher logit first, lower id first on ties (deterministic).
struct BestFirst {
  bool operator()(const Sampler::Candidate& a, const Sampler::Candidate& b) const {
    if (a.logit != b.logit) return a.logit > b.logit;
    return a.id < b.id;
  }
};

}  // namespace

void validate(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f)
    fail(ErrorKind::kInvalidArgument, "temperature must be >= 0 (0 = greedy), got ", p.temperature);
  if (p.top_k < 0) fail(ErrorKind::kInvalidArgument, "top_k must be >= 0 (0 = off), got ", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f))
    fail(ErrorKind::kInvalidArgument, "top_p must be in (0, 1], got ", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
    fail(ErrorKind::kInvalidArgument, "min_p must be in [0, 1], got ", p.min_p);
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty))
    fail(ErrorKind::kInvalidArgument, "repetition_penalty must be > 0 (1 = off), got ",
         p.repetition_penalty);
  if (!std::isfinite(p.presence_penalty) || p.presence_penalty < -2.0f ||
      p.presence_penalty > 2.0f)
    fail(ErrorKind::kInvalidArgument, "presence_penalty must be in [-2, 2], got ",
         p.presence_penalty);
}

int32_t argmax(std::span<const float> values) {
  KANTU_CHECK(!values.empty());
  size_t best = 0;
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i] > values[best]) best = i;
  return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplingParams& params) : params_(params), engine_(params.seed) {
  validate(params_);
}

double Sampler::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> seen,
                              std::span<const int32_t> generated) {
  const float rep = params_.repetition_penalty;
  const float presence = params_.presence_penalty;
  if (rep == 1.0f && presence == 0.0f) return;
  const int64_t vocab = static_cast<int64_t>(logits.size());
  if (static_cast<int64_t>(mark_.size()) != vocab) mark_.assign(vocab, 0);
  // Each distinct id is penalised once, however often it occurred (HF gathers/scatters
  // by id; OpenAI's presence penalty is a flag per token).
  auto for_each_distinct = [&](std::span<const int32_t> ids, auto&& fn) {
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab)
        fail(ErrorKind::kInvalidArgument, "token id ", id, " outside the vocabulary of ", vocab);
      if (!mark_[id]) {
        mark_[id] = 1;
        fn(id);
      }
    }
    for (int32_t id : ids) mark_[id] = 0;
  };
  if (rep != 1.0f) {
    for_each_distinct(seen, [&](int32_t id) {
      float& l = logits[id];
      l = l > 0.0f ? l / rep : l * rep;
    });
  }
  if (presence != 0.0f) {
    for_each_distinct(generated, [&](int32_t id) { logits[id] -= presence; });
  }
}

void Sampler::select_candidates(std::span<const float> logits) {
  const int32_t vocab = static_cast<int32_t>(logits.size());
  // (logit, id) pairs: sorting them touches one array instead of chasing indices.
  candidates_.resize(vocab);
  for (int32_t i = 0; i < vocab; ++i) candidates_[i] = {logits[i], i};
  const auto begin = candidates_.begin();

  bool sorted = false;
  if (params_.top_k > 0 && params_.top_k < vocab) {
    // HF keeps every token whose logit is >= the k-th largest (ties survive).
    std::nth_element(begin, begin + (params_.top_k - 1), candidates_.end(), BestFirst{});
    const float kth = candidates_[params_.top_k - 1].logit;
    candidates_.erase(std::remove_if(begin + params_.top_k, candidates_.end(),
                                     [&](const Candidate& c) { return c.logit < kth; }),
                      candidates_.end());
    std::sort(candidates_.begin(), candidates_.end(), BestFirst{});
    sorted = true;
  }

  float max_logit = candidates_[0].logit;
  for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
  if (!std::isfinite(max_logit))
    fail(ErrorKind::kInternal, "logits are not finite (max ", max_logit, ")");
  auto weight = [&](const Candidate& c) { return std::exp(static_cast<double>(c.logit - max_logit)); };

  if (params_.top_p < 1.0f) {
    double total = 0.0;
    for (const Candidate& c : candidates_) total += weight(c);
    // Keep the best tokens while the mass before them is < top_p (HF removes tokens
    // whose ascending cumulative mass is <= 1 - top_p, keeping at least one).
    // Without top-k, sort only a prefix that grows until it holds enough mass:
    // nth_element brings the next-best block forward, then only that block is sorted.
    const double target = params_.top_p * total;
    size_t sorted_end = sorted ? candidates_.size() : 0;
    size_t keep = 0;
    double before = 0.0;
    for (;;) {
      if (keep == sorted_end) {
        const size_t next = std::min(candidates_.size(), std::max<size_t>(256, sorted_end * 4));
        std::nth_element(candidates_.begin() + sorted_end, candidates_.begin() + (next - 1),
                         candidates_.end(), BestFirst{});
        std::sort(candidates_.begin() + sorted_end, candidates_.begin() + next, BestFirst{});
        sorted_end = next;
      }
      before += weight(candidates_[keep]);
      ++keep;
      if (before >= target || keep == candidates_.size()) break;
    }
    candidates_.resize(keep);
  }

  if (params_.min_p > 0.0f) {
    // p_i / p_max = exp(l_i - l_max) whatever the normalisation.
    const double floor = params_.min_p;
    candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(),
                                     [&](const Candidate& c) { return weight(c) < floor; }),
                      candidates_.end());
    KANTU_CHECK(!candidates_.empty());  // the best token always has ratio 1
  }

  probs_.resize(candidates_.size());
  double total = 0.0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs_[i] = weight(candidates_[i]);
    total += probs_[i];
  }
  for (double& p : probs_) p /= total;
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> seen,
                        std::span<const int32_t> generated) {
  if (logits.empty()) fail(ErrorKind::kInternal, "sample: empty logits");
  apply_penalties(logits, seen, generated);
  if (params_.greedy()) return argmax(logits);

  if (params_.temperature != 1.0f) {
    const float t = params_.temperature;
    for (float& l : logits) l /= t;
  }
  select_candidates(logits);
  const double u = uniform();
  double cumulative = 0.0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cumulative += probs_[i];
    if (u < cumulative) return candidates_[i].id;
  }
  return candidates_.back().id;  // rounding left u just above the total
}

}  // namespace kantu::runtime
