#include "core/base64.h"

#include <array>
#include <cstdint>

#include "core/error.h"

namespace kantu {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// 0..63 for alphabet characters (and the URL-safe '-' and '_'), -1 otherwise.
constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  t['-'] = 62;
  t['_'] = 63;
  return t;
}
constexpr auto kTable = make_table();

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16) |
                 (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t n_chars = 0;
  bool seen_pad = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_space(c)) continue;
    if (c == '=') {
      seen_pad = true;
      continue;
    }
    const int v = kTable[static_cast<unsigned char>(c)];
    if (v < 0 || seen_pad) {
      fail(ErrorKind::kInvalidArgument, what, ": invalid base64 character at offset ", i);
    }
    acc = ((acc << 6) | static_cast<uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    ++n_chars;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (n_chars % 4 == 1) fail(ErrorKind::kInvalidArgument, what, ": truncated base64 data");
  return out;
}

DataUrl parse_data_url(std::string_view url, std::string_view what) {
  const size_t comma = url.find(',');
  if (url.substr(0, 5) != "data:" || comma == std::string_view::npos) {
    fail(ErrorKind::kInvalidArgument, what, ": malformed data: URL (expected data:<type>;base64,...)");
  }
  const std::string_view meta = url.substr(5, comma - 5);
  if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64") {
    fail(ErrorKind::kInvalidArgument, what, ": only base64 data: URLs are supported");
  }
  DataUrl out;
  out.media_type = std::string(meta.substr(0, meta.find(';')));
  out.bytes = base64_decode(url.substr(comma + 1), what);
  return out;
}

}  // namespace kantu
