#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'serve' is not implemented yet"); });
}

}  // namespace kantu::cli
