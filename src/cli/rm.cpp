// kantu rm REPO[:TAG] [--revision R]: a model out of the Hugging Face cache; blobs that
// other snapshots (or the other quantizations) still use stay.
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "hub/cache_scan.h"
#include "hub/pull.h"

namespace kantu::cli {

void add_rm_command(CLI::App& app) {
  struct Args {
    std::string name, revision;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("rm", "Remove a model from the Hugging Face cache");
  cmd->add_option("model", a->name,
                  "ORG/NAME (the whole repository) or ORG/NAME:TAG (one GGUF quantization)")
      ->required();
  cmd->add_option("--revision", a->revision, "Only this revision's snapshot (branch, tag or commit)");
  cmd->callback([a] {
    const hub::ModelRef ref = hub::parse_model_ref_or_fail(a->name);
    std::optional<std::string> revision;
    if (!a->revision.empty()) revision = a->revision;
    const hub::RemoveReport r = hub::remove_from_cache(hub::HubConfig::from_env(), ref, revision);
    std::printf("removed %s: %zu entries, %s freed\n", ref.str().c_str(), r.removed.size(),
                hub::human_bytes(r.freed_bytes).c_str());
  });
}

}  // namespace kantu::cli
