// kantu eval report RUN_DIR... [--out DIR]: Markdown on stdout, and report.md,
// report.json, report.html in DIR.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "eval/report.h"
#include "eval/run_store.h"

namespace kantu::cli {

void add_eval_report_command(CLI::App& eval) {
  struct Options {
    std::vector<std::string> dirs;
    std::string out = "eval-report";
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("report", "Compare finished runs: Markdown, JSON and HTML");
  cmd->add_option("run_dirs", opts->dirs, "run directories")->required();
  cmd->add_option("--out", opts->out, "where report.md/.json/.html go")->capture_default_str();
  cmd->callback([opts] {
    std::vector<eval::RunStats> runs;
    for (const std::string& d : opts->dirs) runs.push_back(eval::load_run_stats(d));
    std::filesystem::create_directories(opts->out);
    std::string md = eval::report_markdown(runs);
    std::filesystem::path out(opts->out);
    eval::write_file_atomic((out / "report.md").string(), md);
    eval::write_file_atomic((out / "report.json").string(), eval::report_json(runs).dump(1) + "\n");
    eval::write_file_atomic((out / "report.html").string(), eval::report_html(runs));
    std::cout << md;
  });
}

}  // namespace kantu::cli
