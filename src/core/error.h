// Errors with context. Every failure the user can cause (a bad file, a bad request)
// is an Error with a kind that the API boundary maps to an exit code or HTTP status.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace kantu {

enum class ErrorKind {
  kInvalidArgument,  // malformed request or option (HTTP 400)
  kNotFound,         // missing file, tensor or field (HTTP 404 / 400)
  kCorrupt,          // a file that does not parse or is inconsistent
  kUnsupported,      // valid but not handled (unknown model type, codec) (HTTP 415)
  kTooLarge,         // over a configured limit (HTTP 413)
  kOverloaded,       // queue full (HTTP 503)
  kCancelled,        // the caller went away
  kInternal,         // a bug: an invariant did not hold
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Concatenates any streamable values: cat("tensor ", name, " has ", n, " bytes").
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, Args&&... args) {
  throw Error(kind, cat(std::forward<Args>(args)...));
}

// Internal invariant; a failure here is a kantu bug, reported instead of crashing.
#define KANTU_CHECK(cond, ...)                                                             \
  do {                                                                                     \
    if (!(cond))                                                                           \
      ::kantu::fail(::kantu::ErrorKind::kInternal, __FILE__, ":", __LINE__, ": check `",   \
                    #cond, "` failed. " __VA_OPT__(, ) __VA_ARGS__);                       \
  } while (0)

}  // namespace kantu
