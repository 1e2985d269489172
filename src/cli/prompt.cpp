#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_prompt_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("prompt", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'prompt' is not implemented yet"); });
}

}  // namespace kantu::cli
