#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'eval' is not implemented yet"); });
}

}  // namespace kantu::cli
