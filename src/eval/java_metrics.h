// METEOR 1.5 and SPICE 1.0 through their official jars, invoked the way pycocoevalcap
// does (docs/metrics.md §1.6-1.7). They are never approximated: without a jar they are
// simply not computed. Needs `java` in PATH.
#pragma once

#include <string>
#include <vector>

#include "eval/metrics.h"

namespace kantu::eval {

struct JarScores {
  double corpus = 0;
  std::vector<double> per_image;  // in input order; NaN where the jar reports none
};

// `java -jar -Xmx2G meteor-1.5.jar - - -stdio -l en -norm` in the jar's directory (it
// needs its data/ folder): one SCORE line per image, then one EVAL line whose last
// answer is the corpus score from aggregated statistics.
JarScores run_meteor(const std::string& jar, const std::vector<ScoringItem>& items);

// `java -jar -Xmx8G spice-1.0.jar in.json -cache cache/ -out out.json -subset -silent` in
// the jar's directory; corpus = mean of the per-image All.f.
JarScores run_spice(const std::string& jar, const std::vector<std::string>& image_ids,
                    const std::vector<ScoringItem>& items);

}  // namespace kantu::eval
