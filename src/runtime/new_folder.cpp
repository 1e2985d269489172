#include "runtime/new_folder.h"

#include <unistd.h>

#include "core/error.h"

namespace kantu::runtime {

namespace fs = std::filesystem;

fs::path check_new_folder(const std::string& out_dir) {
  // Empty first: fs::absolute("") throws a filesystem_error instead.
  if (out_dir.empty())
    fail(ErrorKind::kInvalidArgument, "--out must name a folder, got ''");
  const fs::path out = fs::absolute(out_dir).lexically_normal();
  if (!out.has_filename())
    fail(ErrorKind::kInvalidArgument, "--out must name a folder, got '", out_dir, "'");
  if (fs::exists(out))
    fail(ErrorKind::kInvalidArgument, "output folder ", out.string(),
         " already exists; choose a new path");
  if (!fs::is_directory(out.parent_path()))
    fail(ErrorKind::kNotFound, "parent folder ", out.parent_path().string(), " does not exist");
  return out;
}

void write_folder_atomically(const fs::path& out,
                             const std::function<void(const fs::path& tmp)>& fill) {
  // Beside the target, so the final rename stays on one file system; the pid keeps two
  // concurrent writers of the same name apart.
  const fs::path tmp =
      out.parent_path() / (out.filename().string() + ".partial-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directory(tmp);
  try {
    fill(tmp);
    fs::rename(tmp, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
}

}  // namespace kantu::runtime
