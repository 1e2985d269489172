#include "hub/model_ref.h"

#include <cctype>

#include "core/error.h"

namespace kantu::hub {

namespace {

// One part of a repo id as the Hub allows it: letters, digits, "-", "_", "."; not starting
// or ending with "-" or ".", no "--" or ".." (the cache folder uses "--" as separator).
bool valid_part(std::string_view p) {
  if (p.empty() || p.size() > 96) return false;
  for (char c : p)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  if (p.front() == '-' || p.front() == '.' || p.back() == '-' || p.back() == '.') return false;
  return p.find("--") == std::string_view::npos && p.find("..") == std::string_view::npos;
}

bool valid_tag(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<ModelRef> parse_model_ref(std::string_view text) {
  std::string_view repo = text, tag;
  if (const size_t colon = text.find(':'); colon != std::string_view::npos) {
    repo = text.substr(0, colon);
    tag = text.substr(colon + 1);
    if (!valid_tag(tag)) return std::nullopt;
  }
  const size_t slash = repo.find('/');
  if (slash == std::string_view::npos || repo.find('/', slash + 1) != std::string_view::npos)
    return std::nullopt;
  if (!valid_part(repo.substr(0, slash)) || !valid_part(repo.substr(slash + 1))) return std::nullopt;
  if (ends_with(repo, ".gguf") || ends_with(repo, ".safetensors")) return std::nullopt;
  return ModelRef{std::string(repo), std::string(tag)};
}

ModelRef parse_model_ref_or_fail(std::string_view text) {
  if (auto r = parse_model_ref(text)) return *r;
  fail(ErrorKind::kInvalidArgument, "'", text,
       "' is not a model name: expected ORG/NAME or ORG/NAME:TAG (e.g. Qwen/Qwen3-VL-2B-Instruct, "
       "Qwen/Qwen3-VL-2B-Instruct-GGUF:Q8_0)");
}

}  // namespace kantu::hub
