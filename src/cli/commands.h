// One function per subcommand; each lives in its own file in this folder and adds
// itself (options + callback) to the app. Errors are thrown as kantu::Error and
// turned into a message on stderr and a non-zero exit code by main().
#pragma once

#include <CLI/CLI.hpp>

namespace kantu::cli {

void add_info_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_prompt_command(CLI::App& app);
void add_preprocess_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_pull_command(CLI::App& app);
void add_list_command(CLI::App& app);
void add_rm_command(CLI::App& app);

}  // namespace kantu::cli
