// Helpers for formats tests: temp model folders built from the shared tiny models
// (test::copy_tiny_model: configs copied so a test can edit them, big weights symlinked).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "support/testdata.h"

namespace kantu::test {

inline Json read_json(const std::string& path) { return read_json_file(path); }
inline void write_json(const std::string& path, const Json& json) {
  write_text_file(path, json.dump(2));
}

// Runs `fn`, expects an Error of `kind` whose message contains each fragment.
template <typename Fn>
void expect_error(Fn&& fn, ErrorKind kind, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning '" << *fragments.begin() << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const auto& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message lacks '" << f << "': " << e.what();
    }
  }
}

}  // namespace kantu::test
