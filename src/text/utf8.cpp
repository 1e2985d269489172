#include "text/utf8.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>

#include "core/error.h"

namespace kantu::text {

namespace {

// Number of bytes of the longest prefix of s[i..] that is a valid start of a UTF-8 sequence
// (a "maximal subpart"), and whether the sequence is complete. Follows the Unicode table of
// well-formed byte sequences (no overlongs, no surrogates, nothing above U+10FFFF).
struct SequenceScan {
  size_t valid_prefix = 0;  // bytes that are a valid (possibly incomplete) prefix
  bool complete = false;
};

SequenceScan scan_sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return {1, true};
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0, false};
  }
  size_t k = 1;
  for (; k < need; ++k) {
    if (i + k >= s.size()) return {k, false};
    const unsigned char b = byte(i + k);
    const unsigned char l = (k == 1) ? lo : 0x80, h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) return {k, false};
  }
  return {need, true};
}

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const SequenceScan scan = scan_sequence(s, i);
  return scan.complete ? scan.valid_prefix : 0;
}

void check_utf8(std::string_view s, std::string_view what) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      fail(ErrorKind::kInvalidArgument, what, ": invalid UTF-8 at byte ", i, " (byte 0x", std::hex,
           static_cast<unsigned>(static_cast<unsigned char>(s[i])), ")");
    }
    i += n;
  }
}

std::string nfc(std::string_view s) {
  bool ascii = true;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return std::string(s);  // ASCII is always NFC
  utf8proc_uint8_t* out = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                   static_cast<utf8proc_ssize_t>(s.size()), &out,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    fail(ErrorKind::kInvalidArgument, "NFC normalization failed: ", utf8proc_errmsg(n));
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(out, &std::free);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

void append_utf8_lossy(std::string_view s, std::string& out) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  size_t i = 0;
  while (i < s.size()) {
    const SequenceScan scan = scan_sequence(s, i);
    if (scan.complete) {
      out.append(s.substr(i, scan.valid_prefix));
      i += scan.valid_prefix;
    } else {
      out.append(kReplacement);
      i += scan.valid_prefix == 0 ? 1 : scan.valid_prefix;
    }
  }
}

size_t utf8_emittable_prefix(std::string_view s) {
  // A sequence is at most 4 bytes, so only the last 3 bytes can be a pending prefix.
  const size_t from = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t i = from; i < s.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80 || (b & 0xC0) == 0x80) continue;  // ASCII or continuation: not a lead
    const SequenceScan scan = scan_sequence(s, i);
    if (!scan.complete && scan.valid_prefix > 0 && i + scan.valid_prefix == s.size()) return i;
  }
  return s.size();
}

}  // namespace kantu::text
