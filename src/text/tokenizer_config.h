// tokenizer_config.json: the settings a Hugging Face tokenizer is built with (added tokens,
// BOS, the LLaMA tokenizer's legacy and prefix-space switches). Internal to the loaders.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "text/tokenizer.h"

namespace kantu::text {

struct TokenizerConfig {
  bool present = false;           // the file exists
  std::vector<AddedToken> added;  // added_tokens_decoder
  std::string tokenizer_class;
  std::optional<bool> legacy;
  std::optional<bool> add_prefix_space;
  std::optional<bool> add_bos_token;
  std::optional<std::string> bos_token;  // a string, or the content of {"content": ...}
};

// An absent file gives present=false; a malformed one Error(kCorrupt) naming it.
TokenizerConfig read_tokenizer_config(const std::string& path);

// Parses one added-token entry ({"content": .., "special": ..}); `where` names the file.
AddedToken parse_added_token(const Json& entry, int64_t id, const std::string& where);

}  // namespace kantu::text
