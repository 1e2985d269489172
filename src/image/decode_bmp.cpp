// A small BMP reader (no library): Windows BMP with a 12-byte core header or a 40/52/56/
// 108/124-byte info header; 1/4/8-bit palette, 16/24/32-bit direct colour, uncompressed
// or BI_BITFIELDS. RLE and embedded JPEG/PNG are refused as unsupported. Colour values
// follow Pillow: a masked field of n bits becomes v * 255 / (2^n - 1) (integer division,
// so 8-bit fields are unchanged), palette indices past the table give grey (i, i, i).
// Every offset and size is checked against the buffer before it is read.
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace kantu {
namespace {

uint32_t le16(const uint8_t* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8); }
uint32_t le32(const uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }

struct MaskField {
  uint32_t mask = 0;
  int shift = 0;
  uint32_t max = 0;  // mask >> shift
  uint8_t get(uint32_t pixel) const {
    if (max == 0) return 0;
    return static_cast<uint8_t>(((pixel & mask) >> shift) * 255u / max);
  }
};

MaskField make_field(uint32_t mask, const std::string& what) {
  MaskField f;
  f.mask = mask;
  if (mask == 0) return f;
  while (((mask >> f.shift) & 1u) == 0) ++f.shift;
  f.max = mask >> f.shift;
  if ((f.max & (f.max + 1)) != 0 || f.max > 0xffffu)
    fail(ErrorKind::kUnsupported, what, ": BMP bit field mask 0x", std::hex, mask,
         " is not a contiguous run of at most 16 bits");
  return f;
}

}  // namespace

DecodedImage decode_bmp(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what) {
  const uint8_t* d = bytes.data();
  const size_t size = bytes.size();
  if (size < 26) fail(ErrorKind::kCorrupt, what, ": truncated BMP header");
  const uint32_t pixel_offset = le32(d + 10);
  const uint32_t header_size = le32(d + 14);
  int64_t width = 0, height = 0;
  uint32_t bpp = 0, compression = 0, colors_used = 0;
  size_t palette_entry = 4;
  if (header_size == 12) {
    width = le16(d + 18);
    height = le16(d + 20);
    bpp = le16(d + 24);
    palette_entry = 3;
  } else if (header_size == 40 || header_size == 52 || header_size == 56 ||
             header_size == 64 || header_size == 108 || header_size == 124) {
    if (size < 14 + size_t{header_size}) fail(ErrorKind::kCorrupt, what, ": truncated BMP header");
    width = static_cast<int32_t>(le32(d + 18));
    height = static_cast<int32_t>(le32(d + 22));
    bpp = le16(d + 28);
    compression = le32(d + 30);
    colors_used = le32(d + 46);
  } else {
    fail(ErrorKind::kUnsupported, what, ": BMP header of ", header_size, " bytes");
  }
  const bool top_down = height < 0;
  if (top_down) height = -height;
  check_decode_size(width, height, limits, what);

  size_t after_header = 14 + size_t{header_size};
  MaskField fields[3];
  if (compression == 3 || compression == 6) {  // BI_BITFIELDS / BI_ALPHABITFIELDS
    if (bpp != 16 && bpp != 32)
      fail(ErrorKind::kCorrupt, what, ": BMP bit fields need 16 or 32 bits per pixel, got ", bpp);
    const size_t masks_at = header_size >= 52 ? 54 : after_header;
    if (masks_at + 12 > size) fail(ErrorKind::kCorrupt, what, ": truncated BMP bit masks");
    for (int c = 0; c < 3; ++c) fields[c] = make_field(le32(d + masks_at + 4 * c), what);
    if (header_size == 40) after_header += compression == 6 ? 16 : 12;
  } else if (compression == 0) {
    if (bpp == 16) {  // 5-5-5
      fields[0] = make_field(0x7c00, what);
      fields[1] = make_field(0x03e0, what);
      fields[2] = make_field(0x001f, what);
    } else if (bpp == 32) {
      fields[0] = make_field(0xff0000, what);
      fields[1] = make_field(0x00ff00, what);
      fields[2] = make_field(0x0000ff, what);
    }
  } else {
    fail(ErrorKind::kUnsupported, what, ": BMP compression ", compression,
         " (only uncompressed and bit-field BMPs are read)");
  }
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    fail(ErrorKind::kUnsupported, what, ": BMP with ", bpp, " bits per pixel");

  uint8_t palette[256][3];
  for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = i;
  if (bpp <= 8) {
    size_t n = colors_used != 0 ? colors_used : (size_t{1} << bpp);
    if (n > 256) n = 256;
    if (after_header + n * palette_entry > size)
      fail(ErrorKind::kCorrupt, what, ": truncated BMP palette");
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* e = d + after_header + i * palette_entry;
      palette[i][0] = e[2];
      palette[i][1] = e[1];
      palette[i][2] = e[0];
    }
  }
  const size_t stride = ((static_cast<size_t>(width) * bpp + 31) / 32) * 4;
  if (pixel_offset > size || stride * static_cast<size_t>(height) > size - pixel_offset)
    fail(ErrorKind::kCorrupt, what, ": truncated BMP pixel data (need ",
         stride * static_cast<size_t>(height), " bytes at offset ", pixel_offset, ", file has ",
         size, ")");

  DecodedImage out;
  out.rgb = RgbImage(static_cast<int>(width), static_cast<int>(height));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* in = d + pixel_offset + stride * static_cast<size_t>(top_down ? y : height - 1 - y);
    uint8_t* o = out.rgb.row(static_cast<int>(y));
    for (int64_t x = 0; x < width; ++x, o += 3) {
      switch (bpp) {
        case 1:
        case 4:
        case 8: {
          const size_t bit = static_cast<size_t>(x) * bpp;
          const unsigned index = (in[bit / 8] >> (8 - bpp - bit % 8)) & ((1u << bpp) - 1);
          std::memcpy(o, palette[index], 3);
          break;
        }
        case 24:
          o[0] = in[3 * x + 2];
          o[1] = in[3 * x + 1];
          o[2] = in[3 * x];
          break;
        default: {
          const uint32_t pixel = bpp == 16 ? le16(in + 2 * x) : le32(in + 4 * x);
          for (int c = 0; c < 3; ++c) o[c] = fields[c].get(pixel);
        }
      }
    }
  }
  return out;
}

}  // namespace kantu
