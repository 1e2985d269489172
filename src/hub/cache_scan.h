// What the cache holds (`kantu list`) and taking a model out of it (`kantu rm`), over the
// layout huggingface_hub writes, whichever tool wrote it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "hub/model_ref.h"

namespace kantu {
class ModelFolder;
}  // namespace kantu

namespace kantu::hub {

struct CachedModel {
  std::string name;               // ORG/NAME or ORG/NAME:TAG (what -m takes)
  std::string commit;
  std::vector<std::string> refs;  // the revisions (branches, tags) naming the commit
  std::string path;               // what -m opens (snapshot folder or GGUF file)
  std::string mmproj;             // GGUF: its mmproj, or ""
  int64_t bytes = 0;              // the files this model uses
  std::vector<std::string> weight_types;  // dtypes of the tensors ("BF16", "Q4_K", "F32")
  bool runnable = false;
  std::string problem;            // why not, when !runnable
};

// What judges an opened model beyond ModelFolder::open: the family's own checks of its
// configs (models::profile_of), which hub, below the model families, is handed. Throws
// Error for a model that cannot run; its message becomes CachedModel::problem.
using ModelCheck = std::function<void(const ModelFolder&)>;

// Every model in the cache, one per snapshot (one per quantization in a GGUF snapshot),
// each opened and validated as `kantu run` would (cheap: headers and configs only) and
// then given to `check` (if any).
std::vector<CachedModel> scan_cache(const HubConfig& config, const ModelCheck& check);

struct RemoveReport {
  std::vector<std::string> removed;  // folders, snapshot files and blobs taken out
  int64_t freed_bytes = 0;
};

// ORG/NAME: the whole repository. With a revision: that snapshot (and the refs naming
// it). With :TAG: that quantization's files in the revision's snapshot (default main).
// Blobs that another snapshot (or the other quantizations) still use stay.
// Error(kNotFound) when absent; Error(kOverloaded) while a pull of it runs.
RemoveReport remove_from_cache(const HubConfig& config, const ModelRef& ref,
                               const std::optional<std::string>& revision);

}  // namespace kantu::hub
