#include "eval/runner.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/mapped_file.h"
#include "eval/evaluate.h"
#include "eval/progress.h"
#include "eval/run_store.h"

namespace kantu::eval {
namespace {

namespace fs = std::filesystem;

// The fields that make two runs "the same run" (a resume must match all of them).
const char* const kIdentityKeys[] = {"model", "backend", "annotations", "prompt", "max_tokens",
                                     "limit"};

std::string absolute(const std::string& path) { return fs::absolute(path).lexically_normal().string(); }

Json run_record(const CaptionBackend& backend, const RunOptions& o, size_t planned) {
  return {{"format", "kantu-eval-run/1"},
          {"model", backend.model_name()},
          {"backend", backend.kind()},
          {"endpoint", o.endpoint},
          {"annotations", absolute(o.annotations)},
          {"images", absolute(o.images_dir)},
          {"prompt", o.prompt},
          {"max_tokens", o.max_tokens},
          {"limit", o.limit},
          {"shard", std::to_string(o.shard.k) + "/" + std::to_string(o.shard.n)},
          {"planned_images", planned},
          {"peak_memory_mb", "unknown"},
          {"completed", false}};
}

void check_same_run(const Json& old_record, const Json& record, const std::string& dir) {
  for (const char* key : kIdentityKeys) {
    if (!old_record.contains(key) || old_record.at(key) != record.at(key))
      fail(ErrorKind::kInvalidArgument, dir, " holds a different run (", key, ": ",
           old_record.contains(key) ? old_record.at(key).dump() : "missing", " there, ",
           record.at(key).dump(), " now); use another --out to start a new one");
  }
  if (old_record.at("shard") != record.at("shard"))
    fail(ErrorKind::kInvalidArgument, dir, " holds shard ", old_record.at("shard").dump(),
         ", not ", record.at("shard").dump());
}

std::string json_text(const Json& j) { return j.dump(1, ' ', false, Json::error_handler_t::replace) + "\n"; }

// results.json + metrics.json for the planned images (all present), in plan order.
Json finish(const CocoAnnotations& annotations, const std::vector<std::string>& plan,
            const std::map<std::string, Prediction>& done, const std::string& dir) {
  std::vector<CaptionResult> results;
  for (const std::string& id : plan) results.push_back({id, done.at(id).caption});
  write_file_atomic((fs::path(dir) / "results.json").string(), json_text(results_to_json(results)));
  Json metrics = eval_summary_json(evaluate_captions(annotations, results, {}));
  write_file_atomic((fs::path(dir) / "metrics.json").string(), json_text(metrics));
  return metrics;
}

// Captions `todo` with o.concurrency threads (see runner.h); throws the first failure
// after the captions in flight are recorded.
void caption_all(CaptionBackend& backend, const RunOptions& o, const std::vector<std::string>& todo,
                 const std::map<std::string, std::string>& paths, PredictionLog& log,
                 Progress& progress, RunSummary& summary) {
  std::mutex mutex;  // guards next, failure, log, progress, summary
  size_t next = 0;
  std::exception_ptr failure;
  auto work = [&] {
    for (;;) {
      std::string id;
      {
        std::lock_guard lock(mutex);
        if (failure || next >= todo.size()) return;
        id = todo[next++];
      }
      try {
        Caption c = backend.caption({paths.at(id), o.prompt, o.max_tokens});
        std::lock_guard lock(mutex);
        log.append({id, c.text, c.timings});
        ++summary.captioned;
        progress.advance();
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  const size_t threads = std::min(static_cast<size_t>(o.concurrency), todo.size());
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(work);
    for (std::thread& t : pool) t.join();
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::vector<std::string> plan_images(const CocoAnnotations& annotations, int limit, Shard shard) {
  std::vector<std::string> ids;
  for (const std::string& id : annotations.image_ids)
    if (annotations.captions.count(id)) ids.push_back(id);  // only images with references
  if (limit > 0 && ids.size() > static_cast<size_t>(limit)) ids.resize(static_cast<size_t>(limit));
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(shard.n)) == shard.k - 1) out.push_back(ids[i]);
  return out;
}

RunSummary run_captioning(CaptionBackend& backend, const RunOptions& o) {
  if (o.limit < 0) fail(ErrorKind::kInvalidArgument, "--limit must be >= 0");
  if (o.max_tokens < 1) fail(ErrorKind::kInvalidArgument, "--max-tokens must be >= 1");
  if (o.concurrency < 1) fail(ErrorKind::kInvalidArgument, "--concurrency must be >= 1");
  if (o.concurrency > 1 && !backend.concurrent())
    fail(ErrorKind::kInvalidArgument, "--concurrency ", o.concurrency, " needs --endpoint: the ",
         backend.kind(), " backend captions one image at a time");
  CocoAnnotations annotations = read_coco_annotations(o.annotations);
  std::vector<std::string> plan = plan_images(annotations, o.limit, o.shard);
  if (plan.empty()) fail(ErrorKind::kInvalidArgument, "no image to caption in this run (", o.annotations, ")");
  // Resolve every image first: a wrong --images fails now, not after an hour.
  std::map<std::string, std::string> paths;
  for (const std::string& id : plan) {
    auto it = annotations.file_names.find(id);
    if (it == annotations.file_names.end())
      fail(ErrorKind::kCorrupt, o.annotations, ": image ", id, " has no file_name in \"images\"");
    std::string path = (fs::path(o.images_dir) / it->second).string();
    if (!file_exists(path)) fail(ErrorKind::kNotFound, "image ", id, ": ", path, " does not exist");
    paths[id] = path;
  }

  fs::create_directories(o.out_dir);
  const std::string record_path = (fs::path(o.out_dir) / "run.json").string();
  Json record = run_record(backend, o, plan.size());
  double prior_peak = -1;  // from the interrupted process(es) of this run
  if (file_exists(record_path)) {
    Json old = read_json_file(record_path);
    check_same_run(old, record, o.out_dir);
    if (old.contains("peak_memory_mb") && old.at("peak_memory_mb").is_number())
      prior_peak = old.at("peak_memory_mb").get<double>();
  }
  if (prior_peak >= 0) record["peak_memory_mb"] = prior_peak;
  write_file_atomic(record_path, json_text(record));

  PredictionLog log(o.out_dir);
  RunSummary summary;
  summary.planned = plan.size();
  summary.dropped_torn_line = log.dropped_torn_line();
  std::set<std::string> planned(plan.begin(), plan.end());
  for (const auto& [id, p] : log.done())
    if (!planned.count(id))
      fail(ErrorKind::kCorrupt, o.out_dir, "/predictions.jsonl: image ", id, " is not part of this run");
  summary.resumed = log.done().size();

  std::vector<std::string> todo;
  for (const std::string& id : plan)
    if (!log.done().count(id)) todo.push_back(id);
  Progress progress("eval run", plan.size(), summary.resumed);
  caption_all(backend, o, todo, paths, log, progress, summary);
  progress.finish();

  if (std::optional<double> peak = backend.peak_memory_mb()) record["peak_memory_mb"] = std::max(prior_peak, *peak);
  summary.metrics = finish(annotations, plan, log.done(), o.out_dir);
  record["completed"] = true;
  write_file_atomic(record_path, json_text(record));
  return summary;
}

RunSummary merge_runs(const std::vector<std::string>& run_dirs, const std::string& out_dir) {
  if (run_dirs.empty()) fail(ErrorKind::kInvalidArgument, "eval merge: no run directory given");
  Json first;
  std::set<int> shards;
  int n = 0;
  std::map<std::string, Prediction> all;
  double peak = -1;
  for (const std::string& dir : run_dirs) {
    std::string record_path = (fs::path(dir) / "run.json").string();
    if (!file_exists(record_path)) fail(ErrorKind::kNotFound, dir, " is not a run directory (no run.json)");
    Json record = read_json_file(record_path);
    if (first.is_null()) first = record;
    for (const char* key : kIdentityKeys)
      if (!record.contains(key) || record.at(key) != first.at(key))
        fail(ErrorKind::kInvalidArgument, "eval merge: ", dir, " is a different run (", key, " differs)");
    Shard s = parse_shard(record.at("shard").get<std::string>());
    if (n == 0) n = s.n;
    if (s.n != n) fail(ErrorKind::kInvalidArgument, "eval merge: ", dir, " is shard ", s.k, "/", s.n, ", others are /", n);
    if (!shards.insert(s.k).second) fail(ErrorKind::kInvalidArgument, "eval merge: shard ", s.k, "/", n, " given twice");
    if (record.at("peak_memory_mb").is_number()) peak = std::max(peak, record.at("peak_memory_mb").get<double>());
    for (Prediction& p : read_predictions(dir)) {
      std::string id = p.image_id;
      if (!all.emplace(id, std::move(p)).second)
        fail(ErrorKind::kInvalidArgument, "eval merge: image ", id, " is in more than one shard");
    }
  }
  for (int k = 1; k <= n; ++k)
    if (!shards.count(k)) fail(ErrorKind::kInvalidArgument, "eval merge: shard ", k, "/", n, " is missing");

  const std::string annotations_path = first.at("annotations").get<std::string>();
  CocoAnnotations annotations = read_coco_annotations(annotations_path);
  std::vector<std::string> plan = plan_images(annotations, first.at("limit").get<int>(), Shard{});
  for (const std::string& id : plan)
    if (!all.count(id)) fail(ErrorKind::kInvalidArgument, "eval merge: image ", id, " has no prediction (an unfinished shard?)");
  if (all.size() != plan.size()) fail(ErrorKind::kInvalidArgument, "eval merge: predictions for images outside the run");

  fs::create_directories(out_dir);
  Json record = first;
  record["shard"] = "1/1";
  record["planned_images"] = plan.size();
  record["merged_from"] = run_dirs;
  record["peak_memory_mb"] = peak >= 0 ? Json(peak) : Json("unknown");
  record["completed"] = true;
  std::string lines;
  for (const std::string& id : plan) lines += prediction_to_json(all.at(id)).dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
  write_file_atomic((fs::path(out_dir) / "predictions.jsonl").string(), lines);
  RunSummary summary;
  summary.planned = plan.size();
  summary.resumed = plan.size();
  summary.metrics = finish(annotations, plan, all, out_dir);
  write_file_atomic((fs::path(out_dir) / "run.json").string(), json_text(record));
  return summary;
}

}  // namespace kantu::eval
