#include "cli/commands.h"
#include "core/error.h"

namespace kantu::cli {

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "(not implemented yet)");
  cmd->allow_extras();
  cmd->callback([] { fail(ErrorKind::kUnsupported, "'tokenize' is not implemented yet"); });
}

}  // namespace kantu::cli
