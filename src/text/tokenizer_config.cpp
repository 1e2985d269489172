#include "text/tokenizer_config.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "text/utf8.h"

namespace kantu::text {

namespace {

std::optional<bool> optional_bool(const Json& config, const char* key, const std::string& path) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) fail(ErrorKind::kCorrupt, path, ": '", key, "' is not a boolean");
  return it->get<bool>();
}

}  // namespace

AddedToken parse_added_token(const Json& entry, int64_t id, const std::string& where) {
  if (!entry.is_object() || !entry.contains("content") || !entry["content"].is_string()) {
    fail(ErrorKind::kCorrupt, where, ": added token ", id, " has no string 'content'");
  }
  if (id < 0 || id > INT32_MAX) fail(ErrorKind::kCorrupt, where, ": added token id ", id, " is out of range");
  AddedToken t;
  t.id = static_cast<int32_t>(id);
  t.content = entry["content"].get<std::string>();
  if (t.content.empty()) fail(ErrorKind::kCorrupt, where, ": added token ", id, " is empty");
  check_utf8(t.content, where);
  const auto special = entry.find("special");
  if (special != entry.end()) {
    if (!special->is_boolean()) fail(ErrorKind::kCorrupt, where, ": added token ", id, ": 'special' is not a boolean");
    t.special = special->get<bool>();
  }
  return t;
}

TokenizerConfig read_tokenizer_config(const std::string& path) {
  TokenizerConfig out;
  if (path.empty() || !file_exists(path)) return out;
  out.present = true;
  const Json config = read_json_file(path);
  try {
    if (!config.is_object()) fail(ErrorKind::kCorrupt, path, ": not a JSON object");
    const Json decoder = config.value("added_tokens_decoder", Json::object());
    if (!decoder.is_object()) fail(ErrorKind::kCorrupt, path, ": added_tokens_decoder is not an object");
    for (const auto& [key, entry] : decoder.items()) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != key.size()) {
        fail(ErrorKind::kCorrupt, path, ": added_tokens_decoder key '", key, "' is not an id");
      }
      out.added.push_back(parse_added_token(entry, id, path));
    }
    if (config.contains("tokenizer_class") && config["tokenizer_class"].is_string()) {
      out.tokenizer_class = config["tokenizer_class"].get<std::string>();
    }
    out.legacy = optional_bool(config, "legacy", path);
    out.add_prefix_space = optional_bool(config, "add_prefix_space", path);
    out.add_bos_token = optional_bool(config, "add_bos_token", path);
    if (const auto bos = config.find("bos_token"); bos != config.end()) {
      if (bos->is_string()) {
        out.bos_token = bos->get<std::string>();
      } else if (bos->is_object() && bos->contains("content") && (*bos)["content"].is_string()) {
        out.bos_token = (*bos)["content"].get<std::string>();
      } else if (!bos->is_null()) {
        fail(ErrorKind::kCorrupt, path, ": 'bos_token' is neither a string nor {\"content\": ...}");
      }
    }
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, path, ": unexpected structure: ", e.what());
  }
  return out;
}

}  // namespace kantu::text
