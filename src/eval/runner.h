// `kantu eval run` and `kantu eval merge`: caption every image of a COCO annotation file
// with a CaptionBackend, resumably (run_store.h), optionally one deterministic shard of
// the set (shard.h); then write COCO results and their scores. Shards merge into
// exactly what a single run would have written.
//
// With concurrency N, N threads each take the next image and record its caption as
// soon as it exists (one append per image, under a lock): the log holds every image at
// most once, in completion order, and results.json is written in plan order. When one
// image fails for good, no new image is started, the ones in flight are still
// recorded, and the first error is thrown: the next run resumes from there.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "eval/caption_backend.h"
#include "eval/coco.h"
#include "eval/shard.h"

namespace kantu::eval {

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
  int concurrency = 1;   // captions in flight at once (a backend that is concurrent())
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
