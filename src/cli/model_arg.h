// -m as every command that opens a model takes it: a model folder or GGUF file on disk, or
// a Hugging Face name (ORG/NAME, ORG/NAME-GGUF:Q4_K_M). A path that exists wins over a name.
// A name is looked up in the Hugging Face cache first (no network when its snapshot is
// complete) and pulled when something is missing, unless --no-pull (or HF_HUB_OFFLINE).
// The option's strings are rewritten in place, before the command's callback runs, to the
// snapshot folder (or the GGUF model file and its mmproj), so commands only see paths. A
// local folder of GGUF files (no config.json) becomes its model file and mmproj the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace kantu::cli {

// Adds `names` (e.g. "-m,--model"), --mmproj when `mmproj` is not null, and --no-pull to
// cmd; returns the model option (for ->required(), ->excludes(...)). `as_given`, when not
// null, keeps the argument as the user spelled it (a name to show), before it becomes paths.
CLI::Option* add_model_options(CLI::App* cmd, const std::string& names, std::string* model,
                               std::string* mmproj, const std::string& help,
                               std::string* as_given = nullptr);

// The resolution itself: `model` (and `mmproj` when not null and empty) become paths.
void resolve_model_in_place(std::string* model, std::string* mmproj, bool no_pull);

}  // namespace kantu::cli
