// COCOEvalCap.evaluate() for the images present in a results list: gather all references
// of those images, PTB-tokenize references and candidates (two separate batches), then
// BLEU, METEOR (if a jar is given), ROUGE-L, CIDEr-D, SPICE (if a jar is given).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/coco.h"
#include "eval/java_metrics.h"
#include "eval/metrics.h"

namespace kantu::eval {

struct EvalOptions {
  bool pretokenized = false;  // skip the PTB step (inputs already tokenized)
  std::string meteor_jar;     // empty = METEOR not computed
  std::string spice_jar;      // empty = SPICE not computed
};

struct EvalResult {
  std::vector<std::string> image_ids;  // evaluated images, in results order
  CorpusScores scores;
  std::optional<JarScores> meteor;
  std::optional<JarScores> spice;
};

EvalResult evaluate_captions(const CocoAnnotations& annotations,
                             const std::vector<CaptionResult>& results, const EvalOptions& options);

// {"corpus": {"Bleu_1".., "METEOR"?, "ROUGE_L", "CIDEr", "SPICE"?}, "bleu_stats": {...},
//  "n_images": N, "not_computed": [...]}
Json eval_summary_json(const EvalResult& result);
// {"IMAGE_ID": {metric: value}}
Json eval_per_image_json(const EvalResult& result);
// A readable table for the terminal.
std::string eval_summary_text(const EvalResult& result);

}  // namespace kantu::eval
