// ROUGE-L as rouge.py: token LCS, precision and recall maxed over references independently.
#include <algorithm>

#include "eval/metrics.h"
#include "eval/ngrams.h"

namespace kantu::eval {
namespace {

size_t lcs_length(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

double rouge_l(std::string_view candidate, const std::vector<std::string>& references) {
  constexpr double kBeta = 1.2;
  std::vector<std::string_view> cand = split_spaces(candidate);
  double prec_max = 0, rec_max = 0;
  for (const std::string& ref : references) {
    std::vector<std::string_view> r = split_spaces(ref);
    double lcs = static_cast<double>(lcs_length(r, cand));
    prec_max = std::max(prec_max, lcs / static_cast<double>(cand.size()));
    rec_max = std::max(rec_max, lcs / static_cast<double>(r.size()));
  }
  if (prec_max == 0 || rec_max == 0) return 0.0;
  const double beta2 = kBeta * kBeta;
  return ((1 + beta2) * prec_max * rec_max) / (rec_max + beta2 * prec_max);
}

}  // namespace kantu::eval
