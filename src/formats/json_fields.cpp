#include "formats/json_fields.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace kantu {

namespace {

// Integers may be written as 64 or, by some tools, 64.0; anything else is not an integer.
bool to_integer(const Json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (!std::isfinite(d) || d != std::floor(d) || d >= 9223372036854775808.0 ||
        d < -9223372036854775808.0) {
      return false;
    }
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool to_number(const Json& v, double* out) {
  if (!v.is_number()) return false;
  *out = v.get<double>();
  return std::isfinite(*out);
}

}  // namespace

JsonFields::JsonFields(const Json& json, std::string file, std::string prefix)
    : json_(&json), file_(std::move(file)), prefix_(std::move(prefix)) {
  if (!json.is_object()) {
    if (prefix_.empty()) fail(ErrorKind::kCorrupt, file_, ": the top level must be a JSON object");
    fail(ErrorKind::kCorrupt, file_, ": ", prefix_, " must be an object");
  }
}

std::string JsonFields::path_of(const std::string& key) const {
  return prefix_.empty() ? key : prefix_ + "." + key;
}

const Json* JsonFields::find(const std::string& key) const {
  auto it = json_->find(key);
  if (it == json_->end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonFields::has(const std::string& key) const { return find(key) != nullptr; }

const Json& JsonFields::require(const std::string& key) const {
  const Json* v = find(key);
  if (!v) fail(ErrorKind::kNotFound, file_, ": ", path_of(key), " is missing");
  return *v;
}

void JsonFields::wrong(const std::string& key, const std::string& what) const {
  fail(ErrorKind::kCorrupt, file_, ": ", path_of(key), " must be ", what);
}

JsonFields JsonFields::object(const std::string& key) const {
  const Json& v = require(key);
  if (!v.is_object()) wrong(key, "an object");
  return JsonFields(v, file_, path_of(key));
}

std::optional<JsonFields> JsonFields::optional_object(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return object(key);
}

int64_t JsonFields::integer(const std::string& key) const {
  int64_t v = 0;
  if (!to_integer(require(key), &v)) wrong(key, "an integer");
  return v;
}

int64_t JsonFields::positive_int(const std::string& key) const {
  int64_t v = 0;
  if (!to_integer(require(key), &v) || v <= 0) wrong(key, "a positive integer");
  return v;
}

int64_t JsonFields::non_negative_int(const std::string& key) const {
  int64_t v = 0;
  if (!to_integer(require(key), &v) || v < 0) wrong(key, "a non-negative integer");
  return v;
}

double JsonFields::number(const std::string& key) const {
  double v = 0;
  if (!to_number(require(key), &v)) wrong(key, "a finite number");
  return v;
}

double JsonFields::positive_number(const std::string& key) const {
  double v = 0;
  if (!to_number(require(key), &v) || v <= 0) wrong(key, "a positive number");
  return v;
}

bool JsonFields::boolean(const std::string& key) const {
  const Json& v = require(key);
  if (!v.is_boolean()) wrong(key, "true or false");
  return v.get<bool>();
}

std::string JsonFields::string(const std::string& key) const {
  const Json& v = require(key);
  if (!v.is_string()) wrong(key, "a string");
  return v.get<std::string>();
}

std::vector<int64_t> JsonFields::non_negative_int_list(const std::string& key) const {
  const Json& v = require(key);
  if (!v.is_array()) wrong(key, "a list of non-negative integers");
  std::vector<int64_t> out;
  for (const Json& item : v) {
    int64_t x = 0;
    if (!to_integer(item, &x) || x < 0) wrong(key, "a list of non-negative integers");
    out.push_back(x);
  }
  return out;
}

std::vector<double> JsonFields::number_list(const std::string& key) const {
  const Json& v = require(key);
  if (!v.is_array()) wrong(key, "a list of numbers");
  std::vector<double> out;
  for (const Json& item : v) {
    double x = 0;
    if (!to_number(item, &x)) wrong(key, "a list of finite numbers");
    out.push_back(x);
  }
  return out;
}

int64_t JsonFields::positive_int(const std::string& key, int64_t fallback) const {
  return has(key) ? positive_int(key) : fallback;
}

int64_t JsonFields::non_negative_int(const std::string& key, int64_t fallback) const {
  return has(key) ? non_negative_int(key) : fallback;
}

double JsonFields::number(const std::string& key, double fallback) const {
  return has(key) ? number(key) : fallback;
}

double JsonFields::positive_number(const std::string& key, double fallback) const {
  return has(key) ? positive_number(key) : fallback;
}

bool JsonFields::boolean(const std::string& key, bool fallback) const {
  return has(key) ? boolean(key) : fallback;
}

std::string JsonFields::string(const std::string& key, const std::string& fallback) const {
  return has(key) ? string(key) : fallback;
}

std::optional<int64_t> JsonFields::optional_non_negative_int(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return non_negative_int(key);
}

std::vector<int64_t> JsonFields::int_or_int_list(const std::string& key) const {
  const Json* v = find(key);
  if (!v) return {};
  int64_t x = 0;
  if (to_integer(*v, &x)) {
    if (x < 0) wrong(key, "a non-negative integer or a list of them");
    return {x};
  }
  if (!v->is_array()) wrong(key, "a non-negative integer or a list of them");
  std::vector<int64_t> out;
  for (const Json& item : *v) {
    if (!to_integer(item, &x) || x < 0) wrong(key, "a non-negative integer or a list of them");
    out.push_back(x);
  }
  return out;
}

}  // namespace kantu
