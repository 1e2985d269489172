// The `kantu eval ...` subcommands, one file each (eval_<name>.cpp).
#pragma once

#include <CLI/CLI.hpp>

namespace kantu::cli {

void add_eval_tokenize_command(CLI::App& eval);
void add_eval_score_command(CLI::App& eval);
void add_eval_report_command(CLI::App& eval);
void add_eval_run_command(CLI::App& eval);
void add_eval_merge_command(CLI::App& eval);
void add_eval_compare_command(CLI::App& eval);

}  // namespace kantu::cli
