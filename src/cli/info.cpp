#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'info' is not implemented yet"); });
}

}  // namespace kantu::cli
