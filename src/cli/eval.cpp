// kantu eval {tokenize, score, run, merge, report, compare}: the captioning benchmark.
#include "cli/commands.h"
#include "cli/eval_commands.h"

namespace kantu::cli {

void add_eval_command(CLI::App& app) {
  auto* eval = app.add_subcommand(
      "eval", "Captioning benchmark: PTB tokenization, BLEU/ROUGE-L/CIDEr-D (METEOR/SPICE via jars), "
              "resumable runs, reports");
  eval->require_subcommand(1);
  add_eval_tokenize_command(*eval);
  add_eval_score_command(*eval);
  add_eval_run_command(*eval);
  add_eval_merge_command(*eval);
  add_eval_report_command(*eval);
  add_eval_compare_command(*eval);
}

}  // namespace kantu::cli
