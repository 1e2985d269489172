#include "image/exif.h"

#include <cstring>

namespace kantu {
namespace {

struct TiffReader {
  std::span<const uint8_t> data;
  bool big_endian = false;
  bool ok(size_t at, size_t n) const { return at <= data.size() && n <= data.size() - at; }
  uint32_t u16(size_t at) const {
    return big_endian ? (uint32_t{data[at]} << 8) | data[at + 1]
                      : (uint32_t{data[at + 1]} << 8) | data[at];
  }
  uint32_t u32(size_t at) const {
    return big_endian ? (u16(at) << 16) | u16(at + 2) : (u16(at + 2) << 16) | u16(at);
  }
};

}  // namespace

int exif_orientation(std::span<const uint8_t> exif) {
  if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0) exif = exif.subspan(6);
  TiffReader r{exif};
  if (!r.ok(0, 8)) return 1;
  if (exif[0] == 'M' && exif[1] == 'M') {
    r.big_endian = true;
  } else if (!(exif[0] == 'I' && exif[1] == 'I')) {
    return 1;
  }
  if (r.u16(2) != 42) return 1;
  const size_t ifd = r.u32(4);
  if (!r.ok(ifd, 2)) return 1;
  const uint32_t n_entries = r.u16(ifd);
  for (uint32_t i = 0; i < n_entries; ++i) {
    const size_t entry = ifd + 2 + size_t{12} * i;
    if (!r.ok(entry, 12)) return 1;
    if (r.u16(entry) != 0x0112) continue;
    const uint32_t type = r.u16(entry + 2);
    uint32_t value = 0;
    if (type == 3) {  // SHORT
      value = r.u16(entry + 8);
    } else if (type == 4) {  // LONG
      value = r.u32(entry + 8);
    } else {
      return 1;
    }
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

RgbImage apply_orientation(RgbImage image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int w = image.width, h = image.height;
  const bool swap = orientation >= 5;
  RgbImage out(swap ? h : w, swap ? w : h);
  for (int y = 0; y < out.height; ++y) {
    uint8_t* o = out.row(y);
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;  // source pixel for output (x, y)
      switch (orientation) {
        case 2: sx = w - 1 - x; break;                    // mirror left-right
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;    // rotate 180
        case 4: sy = h - 1 - y; break;                    // mirror top-bottom
        case 5: sx = y; sy = x; break;                    // transpose
        case 6: sx = y; sy = h - 1 - x; break;            // rotate 90 clockwise
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;    // transverse
        case 8: sx = w - 1 - y; sy = x; break;            // rotate 90 counter-clockwise
      }
      std::memcpy(o + 3 * x, image.row(sy) + 3 * sx, 3);
    }
  }
  return out;
}

}  // namespace kantu
