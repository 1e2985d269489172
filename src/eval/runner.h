// `kantu eval run` and `kantu eval merge`: caption every image of a COCO annotation file
// with a CaptionBackend, resumably (run_store.h), optionally one deterministic shard of
// the set; then write COCO results and their scores. Shards merge into exactly what a
// single run would have written.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "eval/caption_backend.h"
#include "eval/coco.h"

namespace kantu::eval {

struct Shard {
  int k = 1;  // 1-based part
  int n = 1;  // number of parts
};
// "K/N" with 1 <= K <= N; throws kInvalidArgument otherwise.
Shard parse_shard(const std::string& text);

// The images a run covers, in canonical order: the annotation file's image order, the
// first `limit` (0 = all), then every N-th starting at K-1.
std::vector<std::string> plan_images(const CocoAnnotations& annotations, int limit, Shard shard);

struct RunOptions {
  std::string annotations;  // COCO captions file
  std::string images_dir;   // where the file_names are
  std::string out_dir;
  std::string prompt = "Describe this image in one short sentence.";
  int max_tokens = 64;
  int limit = 0;
  Shard shard;
  std::string endpoint;  // for the record
  bool show_progress = true;
};

struct RunSummary {
  size_t planned = 0, resumed = 0, captioned = 0;
  bool dropped_torn_line = false;
  Json metrics;  // eval_summary_json of the results
};

RunSummary run_captioning(CaptionBackend& backend, const RunOptions& options);

// Joins shard run dirs (same run, shards 1..N of the same N) into `out_dir`.
RunSummary merge_runs(const std::vector<std::string>& run_dirs, const std::string& out_dir);

}  // namespace kantu::eval
