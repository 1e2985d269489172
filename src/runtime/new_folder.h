// Output folders that appear whole or not at all (kantu synth's checkpoints and GGUF pairs):
// a crash or an error midway leaves no half-written model behind under the requested name.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace kantu::runtime {

// The absolute path of `out_dir` after checking that it names a folder that does not exist
// yet, inside an existing parent (Error kInvalidArgument / kNotFound otherwise).
std::filesystem::path check_new_folder(const std::string& out_dir);

// Calls fill(tmp) on a fresh sibling folder of `out` and renames it to `out` once fill
// returns. If fill throws, the partial folder is removed and the error propagates.
void write_folder_atomically(const std::filesystem::path& out,
                             const std::function<void(const std::filesystem::path& tmp)>& fill);

}  // namespace kantu::runtime
