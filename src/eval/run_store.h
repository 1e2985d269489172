// The on-disk state of `kantu eval run`, made to survive being killed at any moment:
//   RUN_DIR/run.json           what is being run (checked on resume) + peak memory
//   RUN_DIR/predictions.jsonl  one JSON line per captioned image, appended, flushed and
//                              fsync'ed as soon as it exists; a torn last line (a kill
//                              mid-write) is dropped and that image is redone
//   RUN_DIR/results.json       COCO results, in the canonical image order
//   RUN_DIR/metrics.json       scores of the results (eval_summary_json)
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "eval/caption_backend.h"

namespace kantu::eval {

struct Prediction {
  std::string image_id;
  std::string caption;
  CaptionTimings timings;
};

Json prediction_to_json(const Prediction& p);
Prediction prediction_from_json(const Json& j, const std::string& where);

class PredictionLog {
 public:
  // Opens (creating) RUN_DIR/predictions.jsonl and locks it (flock: a second writer,
  // e.g. two tasks given the same --out, is refused); reads what is there, truncating
  // a torn last line. A bad line elsewhere is an error (kCorrupt).
  explicit PredictionLog(const std::string& run_dir);
  ~PredictionLog();
  PredictionLog(const PredictionLog&) = delete;
  PredictionLog& operator=(const PredictionLog&) = delete;

  const std::map<std::string, Prediction>& done() const { return done_; }
  bool dropped_torn_line() const { return dropped_torn_line_; }
  // Appends one line with a single write, then fsync.
  void append(const Prediction& p);

 private:
  std::string path_;
  int fd_ = -1;
  std::map<std::string, Prediction> done_;
  bool dropped_torn_line_ = false;
};

// Reads every prediction of a run dir without modifying it (merge, report).
std::vector<Prediction> read_predictions(const std::string& run_dir);

// Writes a file atomically (temp file + fsync + rename).
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace kantu::eval
