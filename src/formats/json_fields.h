// Typed reads of fields from a JSON config file with errors that name the file and the
// full field path, e.g. "config.json: text_config.hidden_size must be a positive integer".
// Used for config.json, generation_config.json, preprocessor_config.json and by model
// families that parse their own typed configs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace kantu {

class JsonFields {
 public:
  // `json` must outlive this object. `file` is how errors name the file (usually its
  // base name); `prefix` is the dotted path of `json` inside it ("" for the root).
  // Throws Error(kCorrupt) if `json` is not an object.
  JsonFields(const Json& json, std::string file, std::string prefix = "");

  const Json& json() const { return *json_; }
  const std::string& file() const { return file_; }
  // "text_config.hidden_size" for key "hidden_size" under prefix "text_config".
  std::string path_of(const std::string& key) const;

  // True when the key is present and not null (HF writes null for "unset").
  bool has(const std::string& key) const;

  // A nested object; Error(kNotFound) if absent, Error(kCorrupt) if not an object.
  JsonFields object(const std::string& key) const;
  std::optional<JsonFields> optional_object(const std::string& key) const;

  // Required fields: Error(kNotFound) "<file>: <path> is missing" when absent, and
  // Error(kCorrupt) "<file>: <path> must be <what>" when of the wrong type or range.
  int64_t positive_int(const std::string& key) const;
  int64_t non_negative_int(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  double positive_number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::string string(const std::string& key) const;
  std::vector<int64_t> non_negative_int_list(const std::string& key) const;
  std::vector<double> number_list(const std::string& key) const;

  // Optional fields: the fallback when absent or null, an error when of the wrong type.
  int64_t positive_int(const std::string& key, int64_t fallback) const;
  int64_t non_negative_int(const std::string& key, int64_t fallback) const;
  double number(const std::string& key, double fallback) const;
  double positive_number(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  std::optional<int64_t> optional_non_negative_int(const std::string& key) const;
  // An integer or a list of integers (generation_config's eos_token_id); empty when absent.
  std::vector<int64_t> int_or_int_list(const std::string& key) const;

  // Throws Error(kCorrupt) "<file>: <path> must be <what>".
  [[noreturn]] void wrong(const std::string& key, const std::string& what) const;

 private:
  const Json& require(const std::string& key) const;
  const Json* find(const std::string& key) const;

  const Json* json_;
  std::string file_;
  std::string prefix_;
};

}  // namespace kantu
