// kantu eval merge RUN_DIR... --out DIR: join the shards of one run.
#include <iostream>
#include <memory>

#include "cli/eval_commands.h"
#include "eval/runner.h"

namespace kantu::cli {

void add_eval_merge_command(CLI::App& eval) {
  struct Options {
    std::vector<std::string> dirs;
    std::string out;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("merge", "Join `eval run --shard` directories into one run");
  cmd->add_option("run_dirs", opts->dirs, "the shard run directories")->required();
  cmd->add_option("--out", opts->out, "merged run directory")->required();
  cmd->callback([opts] {
    eval::RunSummary s = eval::merge_runs(opts->dirs, opts->out);
    Json out = {{"run_dir", opts->out}, {"images", s.planned}, {"metrics", s.metrics}};
    std::cout << out.dump(1) << "\n";
  });
}

}  // namespace kantu::cli
