#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_preprocess_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("preprocess", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'preprocess' is not implemented yet"); });
}

}  // namespace kantu::cli
