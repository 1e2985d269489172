#include "cli/model_arg.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "core/error.h"
#include "hub/file_select.h"
#include "hub/progress.h"
#include "hub/pull.h"

namespace kantu::cli {

namespace {

namespace fs = std::filesystem;

// A local folder of GGUF files (no config.json): its text model file and mmproj, chosen by
// the rule a GGUF repository's files are (hub/file_select.h: Q4_K_M, then Q8_0, then the
// first model file; the nearest mmproj). Other folders are left as they are.
void resolve_gguf_folder(std::string* model, std::string* mmproj) {
  std::error_code ec;
  if (!fs::is_directory(*model, ec) || fs::exists(fs::path(*model) / "config.json", ec)) return;
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(*model, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".gguf")
      files.push_back(fs::relative(it->path(), *model, ec).string());
  }
  if (files.empty()) return;  // the loader says what the folder lacks
  const hub::Selection s = hub::select_files(*model, files, "", {}, nullptr);
  const std::string dir = *model;
  *model = (fs::path(dir) / s.model_file).string();
  if (mmproj && mmproj->empty() && !s.mmproj_file.empty()) *mmproj = (fs::path(dir) / s.mmproj_file).string();
}

}  // namespace

void resolve_model_in_place(std::string* model, std::string* mmproj, bool no_pull) {
  if (model->empty()) return;
  std::error_code ec;
  if (std::filesystem::exists(*model, ec)) {  // a local folder or file wins
    resolve_gguf_folder(model, mmproj);
    return;
  }
  const std::optional<hub::ModelRef> ref = hub::parse_model_ref(*model);
  if (!ref) return;  // not a name: the loader says the path is missing
  const hub::HubConfig config = hub::HubConfig::from_env();
  std::optional<hub::PullResult> found = hub::find_cached(config, *ref, {});
  if (!found) {
    if (no_pull)
      fail(ErrorKind::kNotFound, *model, " is not a local path, and the Hugging Face cache (", config.cache_dir,
           ") has no complete snapshot of it; run `kantu pull ", ref->str(), "` or drop --no-pull");
    std::unique_ptr<hub::PullObserver> progress;
    if (::isatty(STDERR_FILENO)) {
      progress = std::make_unique<hub::TerminalProgress>(stderr);
    } else {
      progress = std::make_unique<hub::QuietProgress>(stderr);
    }
    found = hub::pull(config, *ref, {}, progress.get());
  }
  *model = found->model_path;
  if (mmproj && mmproj->empty()) *mmproj = found->mmproj_path;
}

CLI::Option* add_model_options(CLI::App* cmd, const std::string& names, std::string* model,
                               std::string* mmproj, const std::string& help, std::string* as_given) {
  auto no_pull = std::make_shared<bool>(false);
  CLI::Option* m = cmd->add_option(
      names, *model, help + ", or a Hugging Face name ORG/NAME[:TAG] (cached, else pulled)");
  if (mmproj)
    cmd->add_option("--mmproj", *mmproj, "Vision projector GGUF (mmproj) of a GGUF model file")->needs(m);
  cmd->add_flag("--no-pull", *no_pull,
                "With a Hugging Face name: use the cache only, never download");
  // After parsing, before the command's callback: the name becomes paths.
  cmd->parse_complete_callback([model, mmproj, no_pull, as_given] {
    if (as_given) *as_given = *model;
    resolve_model_in_place(model, mmproj, *no_pull);
  });
  return m;
}

}  // namespace kantu::cli
