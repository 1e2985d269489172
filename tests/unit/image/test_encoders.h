// Small encoders for decoder tests (test code only): they build PNG, JPEG, GIF, WebP and
// BMP files in memory with the same libraries, so each decoder rule can be checked on
// images whose expected pixels follow from how they were written.
#pragma once

#include <gif_lib.h>
#include <png.h>
#include <webp/encode.h>

#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

namespace kantu::test {

using Bytes = std::vector<uint8_t>;

struct PngSpec {
  int width = 0, height = 0;
  int color_type = PNG_COLOR_TYPE_RGB;
  int bit_depth = 8;
  bool interlaced = false;
  Bytes samples;                  // packed rows as libpng expects them (big-endian 16-bit)
  std::vector<png_color> palette;  // for palette images
  Bytes trns;                     // palette alpha entries
  Bytes exif;                     // eXIf payload (TIFF header first)
};

inline void png_append(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

inline Bytes encode_png(const PngSpec& s) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(png, &out, png_append, nullptr);
  png_set_IHDR(png, info, s.width, s.height, s.bit_depth, s.color_type,
               s.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!s.palette.empty())
    png_set_PLTE(png, info, s.palette.data(), static_cast<int>(s.palette.size()));
  if (!s.trns.empty())
    png_set_tRNS(png, info, s.trns.data(), static_cast<int>(s.trns.size()), nullptr);
  if (!s.exif.empty()) png_set_eXIf_1(png, info, static_cast<png_uint_32>(s.exif.size()),
                                      const_cast<png_bytep>(s.exif.data()));
  png_write_info(png, info);
  const size_t stride = s.samples.size() / s.height;
  std::vector<png_bytep> rows(s.height);
  for (int y = 0; y < s.height; ++y)
    rows[y] = const_cast<png_bytep>(s.samples.data() + stride * y);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

// components 1 (grey), 3 (RGB) or 4 (CMYK as stored); app1 is written as an APP1 marker.
inline Bytes encode_jpeg(int width, int height, int components, const Bytes& samples,
                         int quality = 95, const Bytes& app1 = {}) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  if (!app1.empty()) jpeg_write_marker(&cinfo, JPEG_APP0 + 1, app1.data(), app1.size());
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(samples.data() + cinfo.next_scanline * width * components);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  Bytes out(buffer, buffer + size);
  free(buffer);
  return out;
}

inline int gif_append(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<Bytes*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

// One frame at (left, top) on a screen of screen_w x screen_h; indices are frame-sized.
inline Bytes encode_gif(int screen_w, int screen_h, int left, int top, int w, int h,
                        const std::vector<GifColorType>& colors, const Bytes& indices,
                        int transparent = -1, bool interlace = false) {
  Bytes out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, gif_append, &error);
  ColorMapObject* map = GifMakeMapObject(static_cast<int>(colors.size()), colors.data());
  EGifSetGifVersion(gif, true);
  EGifPutScreenDesc(gif, screen_w, screen_h, 8, 0, map);
  if (transparent >= 0) {
    GifByteType gce[4] = {1, 0, 0, static_cast<GifByteType>(transparent)};
    EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, gce);
  }
  EGifPutImageDesc(gif, left, top, w, h, interlace, nullptr);
  std::vector<int> order;
  if (interlace) {
    const int starts[4] = {0, 4, 2, 1}, steps[4] = {8, 8, 4, 2};
    for (int p = 0; p < 4; ++p)
      for (int y = starts[p]; y < h; y += steps[p]) order.push_back(y);
  } else {
    for (int y = 0; y < h; ++y) order.push_back(y);
  }
  for (int y : order)
    EGifPutLine(gif, const_cast<GifPixelType*>(indices.data() + y * w), w);
  EGifCloseFile(gif, &error);
  GifFreeMapObject(map);
  return out;
}

inline Bytes encode_webp_lossless(int width, int height, const Bytes& rgba) {
  uint8_t* data = nullptr;
  const size_t size = WebPEncodeLosslessRGBA(rgba.data(), width, height, width * 4, &data);
  Bytes out(data, data + size);
  WebPFree(data);
  return out;
}

inline void put_le(Bytes& b, size_t at, uint32_t v, int n) {
  for (int i = 0; i < n; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A BMP with a 40-byte header; `pixel_rows` are already padded rows in file order.
inline Bytes encode_bmp(int width, int height, int bpp, uint32_t compression,
                        const Bytes& extra, const Bytes& pixel_rows) {
  const size_t offset = 14 + 40 + extra.size();
  Bytes b(offset);
  b[0] = 'B';
  b[1] = 'M';
  put_le(b, 2, static_cast<uint32_t>(offset + pixel_rows.size()), 4);
  put_le(b, 10, static_cast<uint32_t>(offset), 4);
  put_le(b, 14, 40, 4);
  put_le(b, 18, static_cast<uint32_t>(width), 4);
  put_le(b, 22, static_cast<uint32_t>(height), 4);
  put_le(b, 26, 1, 2);
  put_le(b, 28, bpp, 2);
  put_le(b, 30, compression, 4);
  if (!extra.empty()) std::memcpy(b.data() + 54, extra.data(), extra.size());
  b.insert(b.end(), pixel_rows.begin(), pixel_rows.end());
  return b;
}

// Standard CRC-32 (PNG chunks), for patching headers in tests.
inline uint32_t crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

// A TIFF/EXIF block (little endian) holding only the orientation tag.
inline Bytes exif_with_orientation(int orientation, bool with_exif_prefix) {
  Bytes b = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,  // header, IFD at 8, one entry
             0x12, 0x01, 3, 0, 1, 0, 0, 0, static_cast<uint8_t>(orientation), 0, 0, 0,
             0, 0, 0, 0};
  if (!with_exif_prefix) return b;
  Bytes prefixed = {'E', 'x', 'i', 'f', 0, 0};
  for (uint8_t v : b) prefixed.push_back(v);
  return prefixed;
}

}  // namespace kantu::test
