#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_synth_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("synth", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'synth' is not implemented yet"); });
}

}  // namespace kantu::cli
