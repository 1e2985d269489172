// Scores a set of images: BLEU (bleu.cpp), ROUGE-L (rouge.cpp) and CIDEr-D (here, as
// cider_scorer.py: df over the set's references, idf log(N) - log(max(1, df)), raw tf,
// per-order cosine with min() clipping, Gaussian length penalty on bigram counts with
// sigma 6, mean over orders then references, x10).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numbers>

#include "core/error.h"
#include "eval/metrics.h"
#include "eval/ngrams.h"

namespace kantu::eval {
namespace {

constexpr int kOrders = NgramTable::kMaxOrder;

struct Sentence {
  NgramCounts grams;
  std::vector<double> weights;       // tf-idf per entry of grams.counts
  std::array<double, kOrders> norm{};  // Euclidean norm per order
  int bigrams = 0;                   // CIDEr-D's "length": the number of bigrams
};

void weigh(Sentence& s, const NgramTable& table, const std::vector<int>& df, double log_n) {
  std::array<double, kOrders> sq{};
  s.weights.resize(s.grams.counts.size());
  for (size_t i = 0; i < s.grams.counts.size(); ++i) {
    auto [id, tf] = s.grams.counts[i];
    int n = table.order(id) - 1;
    double d = std::log(std::max(1.0, static_cast<double>(df[static_cast<size_t>(id)])));
    s.weights[i] = static_cast<double>(tf) * (log_n - d);
    sq[static_cast<size_t>(n)] += s.weights[i] * s.weights[i];
    if (n == 1) s.bigrams += tf;
  }
  for (int n = 0; n < kOrders; ++n) s.norm[static_cast<size_t>(n)] = std::sqrt(sq[static_cast<size_t>(n)]);
}

std::array<double, kOrders> cider_sim(const Sentence& hyp, const Sentence& ref,
                                      const NgramTable& table) {
  constexpr double kSigma = 6.0;
  std::array<double, kOrders> val{};
  size_t j = 0;
  for (size_t i = 0; i < hyp.grams.counts.size(); ++i) {
    int id = hyp.grams.counts[i].first;
    while (j < ref.grams.counts.size() && ref.grams.counts[j].first < id) ++j;
    double w_ref = j < ref.grams.counts.size() && ref.grams.counts[j].first == id ? ref.weights[j] : 0.0;
    val[static_cast<size_t>(table.order(id) - 1)] += std::min(hyp.weights[i], w_ref) * w_ref;
  }
  double delta = static_cast<double>(hyp.bigrams - ref.bigrams);
  double penalty = std::pow(std::numbers::e, -(delta * delta) / (2 * kSigma * kSigma));
  for (size_t n = 0; n < kOrders; ++n) {
    if (hyp.norm[n] != 0 && ref.norm[n] != 0) val[n] /= hyp.norm[n] * ref.norm[n];
    val[n] *= penalty;
  }
  return val;
}

BleuStats bleu_stats(const NgramCounts& cand, const std::vector<NgramCounts>& refs,
                     const NgramTable& table) {
  BleuStats s;
  s.testlen = cand.length;
  // Closest reference length; ties go to the shorter one.
  int64_t best = -1;
  for (const NgramCounts& r : refs) {
    int64_t diff = std::llabs(static_cast<int64_t>(r.length) - s.testlen);
    int64_t best_diff = best < 0 ? -1 : std::llabs(best - s.testlen);
    if (best < 0 || diff < best_diff || (diff == best_diff && r.length < best)) best = r.length;
  }
  s.reflen = best;
  for (int k = 0; k < kOrders; ++k) s.guess[static_cast<size_t>(k)] = std::max<int64_t>(0, s.testlen - k);
  for (auto [id, count] : cand.counts) {
    int max_ref = 0;
    for (const NgramCounts& r : refs) max_ref = std::max(max_ref, count_of(r, id));
    s.correct[static_cast<size_t>(table.order(id) - 1)] += std::min(count, max_ref);
  }
  return s;
}

}  // namespace

CorpusScores score_captions(const std::vector<ScoringItem>& items) {
  if (items.empty()) fail(ErrorKind::kInvalidArgument, "nothing to score: the evaluated set is empty");
  NgramTable table;
  std::vector<Sentence> hyps(items.size());
  std::vector<std::vector<Sentence>> refs(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].references.empty())
      fail(ErrorKind::kInvalidArgument, "image #", i, " of the evaluated set has no reference");
    hyps[i].grams = table.count(items[i].candidate);
    for (const std::string& r : items[i].references) refs[i].push_back({table.count(r), {}, {}, 0});
  }
  // Document frequency: in how many images' reference sets each n-gram occurs.
  std::vector<int> df(table.size(), 0), seen(table.size(), -1);
  for (size_t i = 0; i < items.size(); ++i)
    for (const Sentence& r : refs[i])
      for (auto [id, count] : r.grams.counts)
        if (seen[static_cast<size_t>(id)] != static_cast<int>(i)) {
          seen[static_cast<size_t>(id)] = static_cast<int>(i);
          ++df[static_cast<size_t>(id)];
        }
  const double log_n = std::log(static_cast<double>(items.size()));

  CorpusScores out;
  out.images.resize(items.size());
  double rouge_sum = 0, cider_sum = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    ImageScores& img = out.images[i];
    std::vector<NgramCounts> ref_grams;
    for (const Sentence& r : refs[i]) ref_grams.push_back(r.grams);
    img.bleu_stats = bleu_stats(hyps[i].grams, ref_grams, table);
    img.bleu = bleu_from_stats(img.bleu_stats);
    out.bleu_stats += img.bleu_stats;
    img.rouge_l = rouge_l(items[i].candidate, items[i].references);

    weigh(hyps[i], table, df, log_n);
    std::array<double, kOrders> total{};
    for (Sentence& r : refs[i]) {
      weigh(r, table, df, log_n);
      std::array<double, kOrders> sim = cider_sim(hyps[i], r, table);
      for (size_t n = 0; n < kOrders; ++n) total[n] += sim[n];
    }
    double mean = (total[0] + total[1] + total[2] + total[3]) / kOrders;
    img.cider = mean / static_cast<double>(refs[i].size()) * 10.0;
    rouge_sum += img.rouge_l;
    cider_sum += img.cider;
  }
  out.bleu = bleu_from_stats(out.bleu_stats);
  out.rouge_l = rouge_sum / static_cast<double>(items.size());
  out.cider = cider_sum / static_cast<double>(items.size());
  return out;
}

}  // namespace kantu::eval
