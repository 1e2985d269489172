// generation_config.json: the checkpoint's default decoding settings, typed. When the
// file or a field is absent, the Hugging Face GenerationConfig defaults apply (and the
// token ids fall back to config.json, as transformers does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu {

struct GenerationConfig {
  bool present = false;                // the file existed
  std::vector<int64_t> eos_token_ids;  // stop ids; an int or a list in the file; may be empty
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> pad_token_id;
  bool do_sample = false;  // false = greedy
  double temperature = 1.0;
  int64_t top_k = 50;  // 0 = off
  double top_p = 1.0;
  double min_p = 0.0;  // 0 = off
  double repetition_penalty = 1.0;
  double presence_penalty = 0.0;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;  // prompt + new tokens
};

// Parses an already-read generation_config.json; `file` names it in errors.
// Out-of-range values (negative temperature, top_p outside (0, 1], ...) are Error(kCorrupt).
GenerationConfig parse_generation_config(const Json& json, const std::string& file);

// The folder's generation config: generation_config.json when present, else defaults;
// ids the file does not give come from config.json (top level, then text_config).
GenerationConfig load_generation_config(const std::string& dir, const Json& config,
                                        const std::string& config_file);

}  // namespace kantu
