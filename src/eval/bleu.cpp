// BLEU as bleu_scorer.py (option "closest"): clipped n-gram counts per image, corpus
// value from the summed counts.
#include <cmath>
#include <cstdlib>

#include "eval/metrics.h"

namespace kantu::eval {

BleuStats& BleuStats::operator+=(const BleuStats& o) {
  testlen += o.testlen;
  reflen += o.reflen;
  for (size_t k = 0; k < 4; ++k) {
    guess[k] += o.guess[k];
    correct[k] += o.correct[k];
  }
  return *this;
}

std::array<double, 4> bleu_from_stats(const BleuStats& s) {
  constexpr double kTiny = 1e-15, kSmall = 1e-9;  // numerator / denominator, as the code has
  std::array<double, 4> out{};
  double bleu = 1.0;
  for (size_t k = 0; k < 4; ++k) {
    bleu *= (static_cast<double>(s.correct[k]) + kTiny) / (static_cast<double>(s.guess[k]) + kSmall);
    out[k] = std::pow(bleu, 1.0 / static_cast<double>(k + 1));
  }
  double ratio = (static_cast<double>(s.testlen) + kTiny) / (static_cast<double>(s.reflen) + kSmall);
  if (ratio < 1.0) {
    for (double& b : out) b *= std::exp(1.0 - 1.0 / ratio);
  }
  return out;
}

}  // namespace kantu::eval
