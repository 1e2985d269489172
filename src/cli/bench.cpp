#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'bench' is not implemented yet"); });
}

}  // namespace kantu::cli
