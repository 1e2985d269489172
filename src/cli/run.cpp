#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'run' is not implemented yet"); });
}

}  // namespace kantu::cli
