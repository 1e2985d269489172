// BLEU-1..4, ROUGE-L and CIDEr-D exactly as pycocoevalcap computes them (docs/metrics.md
// §1.3-1.5), on already PTB-tokenized captions. Scores are fractions (CIDEr-D 0..10).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kantu::eval {

struct BleuStats {
  int64_t testlen = 0;  // candidate words
  int64_t reflen = 0;   // closest reference length (ties to the shorter)
  std::array<int64_t, 4> guess{};
  std::array<int64_t, 4> correct{};  // clipped n-gram matches
  BleuStats& operator+=(const BleuStats& o);
};

// The BLEU-1..4 of summed counts, with the reference's 1e-15 / 1e-9 smoothing and
// brevity penalty (the same formula serves one image and the corpus).
std::array<double, 4> bleu_from_stats(const BleuStats& stats);

// ROUGE-L with beta 1.2, tokens from split(" "), P and R maxed over references separately.
double rouge_l(std::string_view candidate, const std::vector<std::string>& references);

struct ImageScores {
  std::array<double, 4> bleu{};
  double rouge_l = 0;
  double cider = 0;
  BleuStats bleu_stats;
};

struct CorpusScores {
  std::array<double, 4> bleu{};
  double rouge_l = 0;  // mean over images
  double cider = 0;    // mean over images
  BleuStats bleu_stats;
  std::vector<ImageScores> images;  // in input order
};

struct ScoringItem {
  std::string candidate;                // one tokenized candidate
  std::vector<std::string> references;  // >= 1 tokenized references
};

// Scores a whole evaluated set. CIDEr-D's document frequencies come from this set's
// references, so per-image CIDEr depends on the set. Throws on an empty set or an
// image without references.
CorpusScores score_captions(const std::vector<ScoringItem>& items);

}  // namespace kantu::eval
