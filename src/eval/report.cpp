#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "eval/run_store.h"

namespace kantu::eval {
namespace {

namespace fs = std::filesystem;

const char* const kMetricKeys[] = {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE"};
const char* const kMetricNames[] = {"BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "SPICE"};

std::string fixed(double v, int digits) {
  if (v < 0 || !std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

bool any_has(const std::vector<RunStats>& runs, const char* key) {
  for (const RunStats& r : runs)
    if (r.scores.contains(key)) return true;
  return false;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  double rank = p / 100.0 * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(rank));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

RunStats load_run_stats(const std::string& dir) {
  RunStats s;
  s.dir = dir;
  std::string record_path = (fs::path(dir) / "run.json").string();
  std::string metrics_path = (fs::path(dir) / "metrics.json").string();
  if (!file_exists(record_path)) fail(ErrorKind::kNotFound, dir, " is not a run directory (no run.json)");
  if (!file_exists(metrics_path))
    fail(ErrorKind::kNotFound, dir, " has no metrics.json (the run has not finished; run it again to resume)");
  Json record = read_json_file(record_path);
  Json metrics = read_json_file(metrics_path);
  try {
    s.model = record.at("model").get<std::string>();
    s.backend = record.at("backend").get<std::string>();
    s.peak_memory_mb = record.value("peak_memory_mb", Json("unknown"));
    s.annotations = record.value("annotations", "");
    s.images_dir = record.value("images", "");
    s.scores = metrics.at("corpus");
    if (metrics.contains("not_computed"))
      s.not_computed = metrics.at("not_computed").get<std::vector<std::string>>();
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, dir, ": run.json/metrics.json lack a field: ", e.what());
  }
  double generated = 0, decode_ms = 0, total_ms = 0;
  bool decode_known = true, tokens_known = true;
  for (const Prediction& p : read_predictions(dir)) {
    ++s.images;
    s.captions[p.image_id] = p.caption;
    if (p.timings.total_ms >= 0) {
      s.latencies_ms.push_back(p.timings.total_ms);
      total_ms += p.timings.total_ms;
    }
    if (p.timings.generated_tokens < 0) tokens_known = false;
    else generated += static_cast<double>(p.timings.generated_tokens);
    if (p.timings.decode_ms < 0) decode_known = false;
    else decode_ms += p.timings.decode_ms;
  }
  if (!s.latencies_ms.empty()) {
    s.mean_ms = total_ms / static_cast<double>(s.latencies_ms.size());
    s.p50_ms = percentile(s.latencies_ms, 50);
    s.p95_ms = percentile(s.latencies_ms, 95);
  }
  s.tokens_per_s_basis = "unknown";
  if (tokens_known && decode_known && decode_ms > 0) {
    s.tokens_per_s = generated / (decode_ms / 1000.0);
    s.tokens_per_s_basis = "decode";
  } else if (tokens_known && total_ms > 0) {
    s.tokens_per_s = generated / (total_ms / 1000.0);
    s.tokens_per_s_basis = "end-to-end";
  }
  return s;
}

std::string report_markdown(const std::vector<RunStats>& runs) {
  std::string header = "| model | images |", rule = "| --- | ---: |";
  for (size_t i = 0; i < std::size(kMetricKeys); ++i) {
    if (!any_has(runs, kMetricKeys[i])) continue;
    header += std::string(" ") + kMetricNames[i] + " |";
    rule += " ---: |";
  }
  header += " mean ms | p50 ms | p95 ms | tokens/s | peak MiB |";
  rule += " ---: | ---: | ---: | ---: | ---: |";
  std::string out = "# Captioning benchmark\n\nScores x100 (CIDEr-D x100 too, as papers report).\n\n" +
                    header + "\n" + rule + "\n";
  for (const RunStats& r : runs) {
    std::string row = "| " + r.model + " (" + r.backend + ") | " + std::to_string(r.images) + " |";
    for (size_t i = 0; i < std::size(kMetricKeys); ++i) {
      if (!any_has(runs, kMetricKeys[i])) continue;
      const char* key = kMetricKeys[i];
      std::string cell = "not computed";
      if (r.scores.contains(key) && r.scores.at(key).is_number())
        cell = fixed(r.scores.at(key).get<double>() * 100, 1);
      row.append(" ").append(cell).append(" |");
    }
    row += " " + fixed(r.mean_ms, 0) + " | " + fixed(r.p50_ms, 0) + " | " + fixed(r.p95_ms, 0) + " | " +
           fixed(r.tokens_per_s, 1) + (r.tokens_per_s_basis == "end-to-end" ? "*" : "") + " | " +
           (r.peak_memory_mb.is_number() ? fixed(r.peak_memory_mb.get<double>(), 0) : "unknown") + " |";
    out += row + "\n";
  }
  std::vector<std::string> missing;
  for (const char* m : {"METEOR", "SPICE"})
    if (!any_has(runs, m)) missing.push_back(m);
  out += "\n";
  if (!missing.empty()) {
    out += "Not computed:";
    for (const std::string& m : missing) out += " " + m;
    out += " (they need the official jars: `kantu eval score --meteor-jar/--spice-jar`).\n";
  }
  out += "tokens/s: generated tokens per second of decoding; * = per second of whole request "
         "(the endpoint does not report decode time).\n";
  return out;
}

Json report_json(const std::vector<RunStats>& runs) {
  Json out = Json::array();
  for (const RunStats& r : runs) {
    auto num = [](double v) { return v >= 0 ? Json(v) : Json(nullptr); };
    out.push_back({{"run_dir", r.dir},
                   {"model", r.model},
                   {"backend", r.backend},
                   {"images", r.images},
                   {"scores", r.scores},
                   {"not_computed", r.not_computed},
                   {"latency_ms", {{"mean", num(r.mean_ms)}, {"p50", num(r.p50_ms)}, {"p95", num(r.p95_ms)}}},
                   {"tokens_per_s", num(r.tokens_per_s)},
                   {"tokens_per_s_basis", r.tokens_per_s_basis},
                   {"peak_memory_mb", r.peak_memory_mb}});
  }
  return {{"runs", out}};
}

}  // namespace kantu::eval
