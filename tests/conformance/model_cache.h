// The tiny models, loaded once per test binary (loading maps the weights; sharing them
// keeps the conformance run to seconds).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "conformance/golden.h"
#include "models/model.h"

namespace kantu::test {

// "tiny-a" or "tiny-c"; two compute threads (the CI machine has two cores).
inline models::Model& cached_model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<models::Model>> cache;
  auto& slot = cache[name];
  if (!slot) slot = models::Model::load(model_path(name), {.threads = 2});
  return *slot;
}

}  // namespace kantu::test
