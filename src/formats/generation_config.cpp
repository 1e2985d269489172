#include "formats/generation_config.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/json_fields.h"

namespace kantu {

GenerationConfig parse_generation_config(const Json& json, const std::string& file) {
  JsonFields f(json, file);
  GenerationConfig g;
  g.present = true;
  g.eos_token_ids = f.int_or_int_list("eos_token_id");
  g.bos_token_id = f.optional_non_negative_int("bos_token_id");
  g.pad_token_id = f.optional_non_negative_int("pad_token_id");
  g.do_sample = f.boolean("do_sample", g.do_sample);
  g.temperature = f.number("temperature", g.temperature);
  if (g.temperature < 0) f.wrong("temperature", "a number >= 0");
  g.top_k = f.non_negative_int("top_k", g.top_k);
  g.top_p = f.number("top_p", g.top_p);
  if (!(g.top_p > 0 && g.top_p <= 1)) f.wrong("top_p", "a number in (0, 1]");
  g.min_p = f.number("min_p", g.min_p);
  if (!(g.min_p >= 0 && g.min_p <= 1)) f.wrong("min_p", "a number in [0, 1]");
  g.repetition_penalty = f.positive_number("repetition_penalty", g.repetition_penalty);
  g.presence_penalty = f.number("presence_penalty", g.presence_penalty);
  if (f.has("max_new_tokens")) g.max_new_tokens = f.positive_int("max_new_tokens");
  if (f.has("max_length")) g.max_length = f.positive_int("max_length");
  return g;
}

namespace {

// Fills ids the generation config lacks from a config.json object (top level or text_config).
void fill_ids_from(const JsonFields& f, GenerationConfig* g) {
  if (g->eos_token_ids.empty()) g->eos_token_ids = f.int_or_int_list("eos_token_id");
  if (!g->bos_token_id) g->bos_token_id = f.optional_non_negative_int("bos_token_id");
  if (!g->pad_token_id) g->pad_token_id = f.optional_non_negative_int("pad_token_id");
}

}  // namespace

GenerationConfig load_generation_config(const std::string& dir, const Json& config,
                                        const std::string& config_file) {
  const std::string path = dir + "/generation_config.json";
  GenerationConfig g;
  if (file_exists(path)) g = parse_generation_config(read_json_file(path), path);
  JsonFields top(config, config_file);
  fill_ids_from(top, &g);
  if (auto text = top.optional_object("text_config")) fill_ids_from(*text, &g);
  return g;
}

}  // namespace kantu
