#include "eval/evaluate.h"

#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "eval/ptb_tokenizer.h"

namespace kantu::eval {
namespace {

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

EvalResult evaluate_captions(const CocoAnnotations& annotations,
                             const std::vector<CaptionResult>& results, const EvalOptions& options) {
  if (results.empty()) fail(ErrorKind::kInvalidArgument, "no results to score");
  EvalResult out;
  std::vector<std::string> refs_flat, cands;
  std::vector<size_t> ref_counts;
  for (const CaptionResult& r : results) {
    auto it = annotations.captions.find(r.image_id);
    if (it == annotations.captions.end())
      fail(ErrorKind::kInvalidArgument, "image ", r.image_id, " has no annotation in ", annotations.path);
    out.image_ids.push_back(r.image_id);
    refs_flat.insert(refs_flat.end(), it->second.begin(), it->second.end());
    ref_counts.push_back(it->second.size());
    cands.push_back(r.caption);
  }
  if (!options.pretokenized) {
    refs_flat = ptb_tokenize(refs_flat);
    cands = ptb_tokenize(cands);
  }
  std::vector<ScoringItem> items(results.size());
  size_t k = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    items[i].candidate = std::move(cands[i]);
    for (size_t j = 0; j < ref_counts[i]; ++j) items[i].references.push_back(std::move(refs_flat[k++]));
  }
  out.scores = score_captions(items);
  if (!options.meteor_jar.empty()) out.meteor = run_meteor(options.meteor_jar, items);
  if (!options.spice_jar.empty()) out.spice = run_spice(options.spice_jar, out.image_ids, items);
  return out;
}

Json eval_summary_json(const EvalResult& r) {
  const CorpusScores& s = r.scores;
  Json corpus = Json::object();
  for (int n = 0; n < 4; ++n) corpus["Bleu_" + std::to_string(n + 1)] = s.bleu[static_cast<size_t>(n)];
  if (r.meteor) corpus["METEOR"] = number_or_null(r.meteor->corpus);
  corpus["ROUGE_L"] = s.rouge_l;
  corpus["CIDEr"] = s.cider;
  if (r.spice) corpus["SPICE"] = number_or_null(r.spice->corpus);
  Json not_computed = Json::array();
  if (!r.meteor) not_computed.push_back("METEOR");
  if (!r.spice) not_computed.push_back("SPICE");
  const BleuStats& b = s.bleu_stats;
  return {{"corpus", corpus},
          {"bleu_stats",
           {{"testlen", b.testlen}, {"reflen", b.reflen}, {"guess", b.guess}, {"correct", b.correct}}},
          {"n_images", r.image_ids.size()},
          {"not_computed", not_computed}};
}

Json eval_per_image_json(const EvalResult& r) {
  Json out = Json::object();
  for (size_t i = 0; i < r.image_ids.size(); ++i) {
    const ImageScores& s = r.scores.images[i];
    Json m = Json::object();
    for (int n = 0; n < 4; ++n) m["Bleu_" + std::to_string(n + 1)] = s.bleu[static_cast<size_t>(n)];
    if (r.meteor) m["METEOR"] = number_or_null(r.meteor->per_image[i]);
    m["ROUGE_L"] = s.rouge_l;
    m["CIDEr"] = s.cider;
    if (r.spice) m["SPICE"] = number_or_null(r.spice->per_image[i]);
    out[r.image_ids[i]] = m;
  }
  return out;
}

std::string eval_summary_text(const EvalResult& r) {
  const CorpusScores& s = r.scores;
  std::string out;
  char line[160];
  auto row = [&](const char* name, double v) {
    std::snprintf(line, sizeof(line), "  %-8s %8.4f   (x100: %.1f)\n", name, v, v * 100);
    out += line;
  };
  std::snprintf(line, sizeof(line), "Captioning scores over %zu images\n", r.image_ids.size());
  out += line;
  for (int n = 0; n < 4; ++n) {
    std::string name = "BLEU-" + std::to_string(n + 1);
    row(name.c_str(), s.bleu[static_cast<size_t>(n)]);
  }
  if (r.meteor) row("METEOR", r.meteor->corpus);
  else out += "  METEOR   not computed (pass --meteor-jar)\n";
  row("ROUGE-L", s.rouge_l);
  row("CIDEr-D", s.cider);
  if (r.spice) row("SPICE", r.spice->corpus);
  else out += "  SPICE    not computed (pass --spice-jar)\n";
  const BleuStats& b = s.bleu_stats;
  std::snprintf(line, sizeof(line),
                "BLEU counts: testlen %lld reflen %lld guess [%lld %lld %lld %lld] correct [%lld %lld "
                "%lld %lld]\n",
                static_cast<long long>(b.testlen), static_cast<long long>(b.reflen),
                static_cast<long long>(b.guess[0]), static_cast<long long>(b.guess[1]),
                static_cast<long long>(b.guess[2]), static_cast<long long>(b.guess[3]),
                static_cast<long long>(b.correct[0]), static_cast<long long>(b.correct[1]),
                static_cast<long long>(b.correct[2]), static_cast<long long>(b.correct[3]));
  out += line;
  return out;
}

}  // namespace kantu::eval
