#include "text/byte_level.h"

#include <array>
#include <cstdint>

namespace kantu::text {

namespace {

struct ByteLevelTables {
  std::array<uint16_t, 256> byte_to_char{};  // byte -> code point
  std::array<int16_t, 324> char_to_byte{};   // code point (< 324) -> byte, or -1

  ByteLevelTables() {
    char_to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      const int cp = printable ? b : next++;
      byte_to_char[static_cast<size_t>(b)] = static_cast<uint16_t>(cp);
      char_to_byte[static_cast<size_t>(cp)] = static_cast<int16_t>(b);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables t;
  return t;
}

}  // namespace

std::string bytes_to_byte_level(std::string_view bytes) {
  const auto& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const unsigned cp = t.byte_to_char[static_cast<unsigned char>(c)];
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else {  // all code points are < 0x800: two bytes
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

std::optional<std::string> byte_level_to_bytes(std::string_view spelled) {
  const auto& t = tables();
  std::string out;
  out.reserve(spelled.size());
  size_t i = 0;
  while (i < spelled.size()) {
    const unsigned char b0 = static_cast<unsigned char>(spelled[i]);
    unsigned cp = 0;
    if (b0 < 0x80) {
      cp = b0;
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && i + 1 < spelled.size()) {
      const unsigned char b1 = static_cast<unsigned char>(spelled[i + 1]);
      if ((b1 & 0xC0) != 0x80) return std::nullopt;
      cp = ((b0 & 0x1Fu) << 6) | (b1 & 0x3Fu);
      if (cp < 0x80) return std::nullopt;  // overlong
      i += 2;
    } else {
      return std::nullopt;  // 3- and 4-byte characters are never in the alphabet
    }
    if (cp >= t.char_to_byte.size() || t.char_to_byte[cp] < 0) return std::nullopt;
    out.push_back(static_cast<char>(t.char_to_byte[cp]));
  }
  return out;
}

}  // namespace kantu::text
