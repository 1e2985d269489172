// UTF-8 helpers for the tokenizer: validation with a clear error, NFC normalization,
// and lossy decoding with the same replacement policy as Python's
// bytes.decode("utf-8", errors="replace") (one U+FFFD per maximal ill-formed subpart),
// which is what the reference tokenizer's decode uses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kantu::text {

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if the bytes there are
// ill-formed or truncated.
size_t utf8_sequence_length(std::string_view s, size_t i);

// Throws Error(kInvalidArgument) "<what>: invalid UTF-8 at byte N" when s is not UTF-8.
void check_utf8(std::string_view s, std::string_view what);

// NFC normalization (Unicode canonical composition). Input must be valid UTF-8.
std::string nfc(std::string_view s);

// Appends s to out, replacing ill-formed sequences with U+FFFD.
void append_utf8_lossy(std::string_view s, std::string& out);

// How many leading bytes of s can be emitted now: everything except a trailing sequence that
// is incomplete but could still become valid when more bytes arrive.
size_t utf8_emittable_prefix(std::string_view s);

}  // namespace kantu::text
