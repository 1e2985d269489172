// kantu tokenize -m DIR [--special] (TEXT | --file F)   -> {"ids": [...]}
// kantu tokenize -m DIR --decode 1,2,3 [--skip-special]  -> {"text": "..."}
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "text/tokenizer.h"

namespace kantu::cli {

namespace {

struct TokenizeOptions {
  std::string model_dir;
  std::optional<std::string> text;
  std::optional<std::string> file;
  std::optional<std::string> decode;
  bool special = false;
  bool skip_special = false;
};

std::vector<int32_t> parse_id_list(const std::string& list) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(pos, end - pos);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 0 || value > INT32_MAX) {
      fail(ErrorKind::kInvalidArgument, "--decode: '", item, "' is not a token id (expected e.g. 1,2,3)");
    }
    ids.push_back(static_cast<int32_t>(value));
    pos = end + 1;
  }
  return ids;
}

void run_tokenize(const TokenizeOptions& o) {
  const int inputs = int(o.text.has_value()) + int(o.file.has_value()) + int(o.decode.has_value());
  if (inputs != 1) {
    fail(ErrorKind::kInvalidArgument, "tokenize: give exactly one of TEXT, --file F or --decode IDS");
  }
  const text::Tokenizer tokenizer = text::Tokenizer::load(o.model_dir);
  nlohmann::ordered_json out;
  if (o.decode) {
    const std::vector<int32_t> ids = o.decode->empty() ? std::vector<int32_t>{} : parse_id_list(*o.decode);
    out["text"] = tokenizer.decode(ids, o.skip_special);
  } else {
    const std::string input = o.text ? *o.text : read_file(*o.file);
    out["ids"] = tokenizer.encode(input, o.special);
  }
  std::cout << out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Text to token ids, or token ids to text");
  add_model_options(cmd, "-m,--model", &opts->model_dir, nullptr, "Model folder (tokenizer.json or vocab.json + merges.txt)")
      ->required();
  cmd->add_option("text", opts->text, "Text to tokenize");
  cmd->add_option("--file", opts->file, "Tokenize the contents of this file");
  cmd->add_option("--decode", opts->decode, "Comma-separated token ids to turn back into text");
  cmd->add_flag("--special", opts->special,
                "Parse the vocabulary's special-token strings (default: plain text)");
  cmd->add_flag("--skip-special", opts->skip_special, "With --decode: drop special tokens");
  cmd->callback([opts] { run_tokenize(*opts); });
}

}  // namespace kantu::cli
