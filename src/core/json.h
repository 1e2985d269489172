// JSON parsing with errors that name the file (nlohmann's messages do not).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kantu {

using Json = nlohmann::json;

// Parses text; on failure throws Error(kCorrupt) "<what>: invalid JSON: ...".
Json parse_json(std::string_view text, const std::string& what);
// Reads and parses a file; a missing file is kNotFound, bad JSON is kCorrupt.
Json read_json_file(const std::string& path);

}  // namespace kantu
