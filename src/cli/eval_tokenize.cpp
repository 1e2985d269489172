// kantu eval tokenize (TEXT | --file F)  -> {"tokenized": "..."}
// The file's whole content is one caption (line breaks become spaces, as the wrapper does).
#include <iostream>
#include <memory>
#include <optional>

#include "cli/eval_commands.h"
#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "eval/ptb_tokenizer.h"

namespace kantu::cli {

void add_eval_tokenize_command(CLI::App& eval) {
  struct Options {
    std::optional<std::string> text, file;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = eval.add_subcommand("tokenize", "PTB-tokenize a caption like pycocoevalcap does");
  auto* text = cmd->add_option("text", opts->text, "the caption");
  auto* file = cmd->add_option("--file", opts->file, "read the caption from a file");
  text->excludes(file);
  cmd->callback([opts] {
    if (!opts->text && !opts->file)
      fail(ErrorKind::kInvalidArgument, "eval tokenize: give a TEXT or --file F");
    std::string caption = opts->text ? *opts->text : read_file(*opts->file);
    Json out = {{"tokenized", eval::ptb_tokenize_one(caption)}};
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  });
}

}  // namespace kantu::cli
