// kantu pull REPO[:TAG] [--revision R] [--include GLOB ...] [--json]: a model from the
// Hugging Face Hub (or HF_ENDPOINT's mirror) into the shared Hugging Face cache.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/json.h"
#include "hub/progress.h"
#include "hub/pull.h"

namespace kantu::cli {

void add_pull_command(CLI::App& app) {
  struct Args {
    std::string name;
    hub::PullOptions options;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("pull", "Download a model from the Hugging Face Hub into its cache");
  cmd->add_option("model", a->name,
                  "ORG/NAME (a safetensors model) or ORG/NAME-GGUF:TAG (a GGUF quantization, e.g. Q4_K_M)")
      ->required();
  cmd->add_option("--revision", a->options.revision, "Branch, tag or commit")->capture_default_str();
  cmd->add_option("--include", a->options.include,
                  "Fetch exactly the files matching this glob instead of what kantu needs (repeatable)");
  cmd->add_flag("--json", a->json, "One JSON line per file, then one for the snapshot");
  cmd->callback([a] {
    const hub::ModelRef ref = hub::parse_model_ref_or_fail(a->name);
    const hub::HubConfig config = hub::HubConfig::from_env();
    std::unique_ptr<hub::PullObserver> progress;
    if (a->json) {
      progress = std::make_unique<hub::JsonLinesProgress>(stdout, stderr);
    } else if (::isatty(STDERR_FILENO)) {
      progress = std::make_unique<hub::TerminalProgress>(stderr);
    } else {
      progress = std::make_unique<hub::QuietProgress>(stderr);
    }
    const hub::PullResult r = hub::pull(config, ref, a->options, progress.get());
    if (a->json) {
      const Json j = {{"model", ref.str()},       {"revision", r.revision},
                      {"commit", r.commit},       {"snapshot", r.snapshot_dir},
                      {"path", r.model_path},     {"mmproj", r.mmproj_path},
                      {"files", r.files.size()},  {"bytes_downloaded", r.bytes_downloaded},
                      {"cache_only", r.from_cache_only}};
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    int64_t bytes = 0;
    for (const hub::PulledFile& f : r.files) bytes += f.size;
    std::printf("%s (revision %s, commit %s): %zu files, %s, %s downloaded\n  %s\n", ref.str().c_str(),
                r.revision.c_str(), r.commit.substr(0, 12).c_str(), r.files.size(),
                hub::human_bytes(bytes).c_str(), hub::human_bytes(r.bytes_downloaded).c_str(),
                r.model_path.c_str());
  });
}

}  // namespace kantu::cli
