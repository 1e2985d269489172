// `kantu eval report` (and the end of `kantu eval compare`): a comparison of finished runs
// (scores, latency, throughput, memory) as Markdown, JSON and a self-contained HTML page
// with inline SVG charts (scores, quality against speed, latency distribution) and a
// gallery of the images with every run's caption beside the references.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu::eval {

struct RunStats {
  std::string dir, model, backend;
  Json scores;                // metrics.json "corpus" (fractions)
  std::vector<std::string> not_computed;
  size_t images = 0;
  std::vector<double> latencies_ms;  // per image, known ones only
  double mean_ms = -1, p50_ms = -1, p95_ms = -1;
  double tokens_per_s = -1;          // generated tokens / decode time (or / total time)
  std::string tokens_per_s_basis;    // "decode" or "end-to-end" or "unknown"
  Json peak_memory_mb;               // number or "unknown"
  std::string annotations, images_dir;          // what the run captioned (run.json)
  std::map<std::string, std::string> captions;  // image id -> caption
};

RunStats load_run_stats(const std::string& run_dir);
// Linear interpolation between closest ranks (numpy's default); -1 for no data.
double percentile(std::vector<double> values, double p);

std::string report_markdown(const std::vector<RunStats>& runs);
Json report_json(const std::vector<RunStats>& runs);
std::string report_html(const std::vector<RunStats>& runs);

}  // namespace kantu::eval
