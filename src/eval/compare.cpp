#include "eval/compare.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "core/run_child.h"
#include "eval/local_backend.h"
#include "eval/report.h"
#include "eval/run_store.h"

namespace kantu::eval {

namespace {

namespace fs = std::filesystem;

// Letters, digits, '.', '-' and '_' stay; anything else becomes '_'.
std::string file_safe(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "model";
  return out;
}

std::string run_dir_of(const CompareOptions& o, const CompareModel& m) {
  return (fs::path(o.out_dir) / "runs" / m.name).string();
}

}  // namespace

std::vector<CompareModel> compare_models(const std::vector<std::string>& models,
                                         const std::vector<std::string>& endpoints) {
  std::vector<CompareModel> out;
  for (const std::string& entry : models) {
    CompareModel m;
    const size_t comma = entry.find(',');
    m.model = entry.substr(0, comma);
    if (comma != std::string::npos) m.mmproj = entry.substr(comma + 1);
    if (m.model.empty() || (comma != std::string::npos && m.mmproj.empty())) {
      fail(ErrorKind::kInvalidArgument, "--model ", entry, ": expected a model folder, a GGUF file, or MODEL.gguf,MMPROJ.gguf");
    }
    m.name = file_safe(model_label(m.model));
    out.push_back(m);
  }
  for (const std::string& entry : endpoints) {
    const size_t eq = entry.find('=');
    CompareModel m;
    if (eq != std::string::npos) {
      m.model = entry.substr(0, eq);
      m.endpoint = entry.substr(eq + 1);
    }
    if (m.model.empty() || !(m.endpoint.starts_with("http://") || m.endpoint.starts_with("https://"))) {
      fail(ErrorKind::kInvalidArgument, "--endpoint ", entry,
           ": expected NAME=URL, e.g. mplug-owl3=http://127.0.0.1:8000 (NAME is the model name the server expects)");
    }
    m.name = file_safe(m.model);
    out.push_back(m);
  }
  if (out.empty()) fail(ErrorKind::kInvalidArgument, "eval compare: give at least one --model or --endpoint");
  std::set<std::string> taken;
  for (CompareModel& m : out) {
    const std::string base = m.name;
    for (int k = 2; taken.count(m.name); ++k) m.name = base + "-" + std::to_string(k);
    taken.insert(m.name);
  }
  return out;
}

std::vector<std::string> eval_run_argv(const CompareModel& m, const CompareOptions& o) {
  std::vector<std::string> argv = {o.kantu, "eval", "run"};
  if (m.endpoint.empty()) {
    argv.insert(argv.end(), {"-m", m.model, "--name", m.name});
    if (!m.mmproj.empty()) argv.insert(argv.end(), {"--mmproj", m.mmproj});
    argv.insert(argv.end(), {"--threads", std::to_string(o.threads)});
    argv.insert(argv.end(), o.local_args.begin(), o.local_args.end());
  } else {
    char timeout[32];
    std::snprintf(timeout, sizeof(timeout), "%g", o.timeout_s);
    argv.insert(argv.end(), {"--endpoint", m.endpoint, "--model", m.model, "--timeout", timeout});
  }
  argv.insert(argv.end(), {"--annotations", o.annotations, "--images", o.images_dir, "--limit", std::to_string(o.limit),
                           "--prompt", o.prompt, "--max-tokens", std::to_string(o.max_tokens), "--out",
                           run_dir_of(o, m)});
  return argv;
}

std::vector<CompareOutcome> run_compare(const CompareOptions& o) {
  if (!file_exists(o.annotations)) fail(ErrorKind::kNotFound, "eval compare: ", o.annotations, ": no such file");
  if (!fs::is_directory(o.images_dir)) fail(ErrorKind::kNotFound, "eval compare: ", o.images_dir, ": no such folder");
  fs::create_directories(fs::path(o.out_dir) / "runs");
  std::vector<CompareOutcome> outcomes;
  for (size_t i = 0; i < o.models.size(); ++i) {
    const CompareModel& m = o.models[i];
    std::cerr << "eval compare: [" << i + 1 << "/" << o.models.size() << "] " << m.name
              << (m.endpoint.empty() ? " (in process)" : " (endpoint " + m.endpoint + ")") << "\n";
    CompareOutcome out;
    out.name = m.name;
    out.run_dir = run_dir_of(o, m);
    const ChildResult child = run_child(eval_run_argv(m, o));
    out.exit_code = child.exit_code;
    out.process_peak_rss_mb = child.peak_rss_mb;
    out.finished = child.exit_code == 0 && file_exists((fs::path(out.run_dir) / "metrics.json").string());
    if (!out.finished) std::cerr << "eval compare: " << m.name << " failed (exit " << child.exit_code << ")\n";
    outcomes.push_back(out);
  }
  std::vector<RunStats> runs;
  Json record = Json::array();
  for (const CompareOutcome& out : outcomes) {
    record.push_back({{"name", out.name},
                      {"run_dir", out.run_dir},
                      {"exit_code", out.exit_code},
                      {"process_peak_rss_mb", out.process_peak_rss_mb},
                      {"finished", out.finished}});
    if (out.finished) runs.push_back(load_run_stats(out.run_dir));
  }
  const fs::path dir(o.out_dir);
  write_file_atomic((dir / "compare.json").string(), Json{{"models", record}}.dump(1) + "\n");
  if (!runs.empty()) {
    write_file_atomic((dir / "report.md").string(), report_markdown(runs));
    write_file_atomic((dir / "report.json").string(), report_json(runs).dump(1) + "\n");
    write_file_atomic((dir / "report.html").string(), report_html(runs));
  }
  return outcomes;
}

}  // namespace kantu::eval
