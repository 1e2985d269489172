// kantu: run, serve and measure vision-language models on the CPU.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "core/error.h"

namespace {

int exit_code(kantu::ErrorKind kind) {
  switch (kind) {
    case kantu::ErrorKind::kInvalidArgument: return 2;
    case kantu::ErrorKind::kNotFound: return 3;
    case kantu::ErrorKind::kCorrupt: return 4;
    case kantu::ErrorKind::kUnsupported: return 5;
    case kantu::ErrorKind::kTooLarge: return 6;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kantu: look at a picture and talk about it, on the CPU", "kantu"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kantu 0.1.0");
  kantu::cli::add_info_command(app);
  kantu::cli::add_tokenize_command(app);
  kantu::cli::add_prompt_command(app);
  kantu::cli::add_preprocess_command(app);
  kantu::cli::add_run_command(app);
  kantu::cli::add_chat_command(app);
  kantu::cli::add_bench_command(app);
  kantu::cli::add_synth_command(app);
  kantu::cli::add_serve_command(app);
  kantu::cli::add_eval_command(app);
  kantu::cli::add_pull_command(app);
  kantu::cli::add_list_command(app);
  kantu::cli::add_rm_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const kantu::Error& e) {
    std::fprintf(stderr, "kantu: error: %s\n", e.what());
    return exit_code(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kantu: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
