#include "core/json.h"

#include "core/error.h"
#include "core/mapped_file.h"

namespace kantu {

Json parse_json(std::string_view text, const std::string& what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    fail(ErrorKind::kCorrupt, what, ": invalid JSON: ", e.what());
  }
}

Json read_json_file(const std::string& path) { return parse_json(read_file(path), path); }

}  // namespace kantu
