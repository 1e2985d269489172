// kantu list [--all] [--json]: the models in the Hugging Face cache that kantu can run.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/json.h"
#include "hub/cache_scan.h"
#include "hub/pull.h"
#include "models/model.h"

namespace kantu::cli {

namespace {

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

void add_list_command(CLI::App& app) {
  struct Args {
    bool all = false, json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("list", "Models in the Hugging Face cache that kantu can run");
  cmd->add_flag("--all", a->all, "Also the snapshots kantu cannot run, with the reason");
  cmd->add_flag("--json", a->json, "Print a JSON array");
  cmd->callback([a] {
    const hub::HubConfig config = hub::HubConfig::from_env();
    std::vector<hub::CachedModel> models;
    // The family's checks of its configs, the same Model::load makes (its profile).
    const hub::ModelCheck family_checks = [](const ModelFolder& model) { models::profile_of(model); };
    for (hub::CachedModel& m : hub::scan_cache(config, family_checks))
      if (a->all || m.runnable) models.push_back(std::move(m));
    if (a->json) {
      Json out = Json::array();
      for (const hub::CachedModel& m : models) {
        Json j = {{"name", m.name},   {"commit", m.commit}, {"refs", m.refs},
                  {"path", m.path},   {"bytes", m.bytes},   {"weight_types", m.weight_types},
                  {"runnable", m.runnable}};
        if (!m.mmproj.empty()) j["mmproj"] = m.mmproj;
        if (!m.runnable) j["problem"] = m.problem;
        out.push_back(j);
      }
      std::printf("%s\n", out.dump(1).c_str());
      return;
    }
    if (models.empty()) {
      std::fprintf(stderr, "no models kantu can run in %s (kantu pull ORG/NAME adds one)\n",
                   config.cache_dir.c_str());
      return;
    }
    std::printf("%-48s %-14s %10s  %s\n", "NAME", "REVISION", "SIZE", "WEIGHTS");
    for (const hub::CachedModel& m : models) {
      const std::string revision = m.refs.empty() ? m.commit.substr(0, 12) : join(m.refs, ",");
      std::printf("%-48s %-14s %10s  %s\n", m.name.c_str(), revision.c_str(), hub::human_bytes(m.bytes).c_str(),
                  m.runnable ? join(m.weight_types, ",").c_str() : ("cannot run: " + m.problem).c_str());
    }
  });
}

}  // namespace kantu::cli
