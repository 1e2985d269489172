// PNG through libpng, reproducing Pillow's pixel values (decode.h): palette indices are
// looked up in a 256-entry table that starts as a grey ramp (as Pillow's palette does,
// so an index past the PLTE entries gives grey, not libpng's black), tRNS is ignored,
// 16-bit samples keep the high byte, 16-bit grey clips to 255.
// libpng reports errors by longjmp: only plain data lives in the frame that calls setjmp
// (read_png_rows), and every C++ object is owned by its caller.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"
#include "image/exif.h"

namespace kantu {
namespace {

struct PngSource {
  const uint8_t* data;
  size_t size;
  size_t pos;
  char message[256];
};

void on_png_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof(src->message), "%s", message);
  png_longjmp(png, 1);  // to read_png_rows; returning would print the message first
}

void on_png_warning(png_structp, png_const_charp) {}

void on_png_read(png_structp png, png_bytep out, size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->size - src->pos) png_error(png, "unexpected end of data (truncated file)");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

struct PngHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngHandles() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

// What read_png_rows found; filled before the pixel rows are read.
struct PngLayout {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  size_t row_bytes = 0;
  int orientation = 1;
  uint8_t palette[256][3];
};

// Reads the header (then calls `sized` to check limits and size `rows`), then all rows.
// Returns false after a libpng error (message in src->message).
bool read_png_rows(PngHandles& h, PngLayout& layout, std::vector<uint8_t>& rows,
                   void (*sized)(const PngLayout&, std::vector<uint8_t>&, void*), void* ctx) {
  if (setjmp(png_jmpbuf(h.png))) return false;
  png_read_info(h.png, h.info);
  png_get_IHDR(h.png, h.info, &layout.width, &layout.height, &layout.bit_depth,
               &layout.color_type, &layout.interlace, nullptr, nullptr);
  const bool gray16 = layout.color_type == PNG_COLOR_TYPE_GRAY && layout.bit_depth == 16;
  if (layout.bit_depth == 16 && !gray16) png_set_strip_16(h.png);
  if (layout.color_type == PNG_COLOR_TYPE_GRAY && layout.bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8(h.png);
  if (layout.color_type == PNG_COLOR_TYPE_PALETTE && layout.bit_depth < 8) png_set_packing(h.png);
  png_set_interlace_handling(h.png);
  png_read_update_info(h.png, h.info);
  layout.row_bytes = png_get_rowbytes(h.png, h.info);
  for (int i = 0; i < 256; ++i) layout.palette[i][0] = layout.palette[i][1] = layout.palette[i][2] = i;
  png_colorp plte = nullptr;
  int n_plte = 0;
  if (png_get_PLTE(h.png, h.info, &plte, &n_plte) != 0) {
    for (int i = 0; i < n_plte && i < 256; ++i) {
      layout.palette[i][0] = plte[i].red;
      layout.palette[i][1] = plte[i].green;
      layout.palette[i][2] = plte[i].blue;
    }
  }
  png_uint_32 exif_size = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(h.png, h.info, &exif_size, &exif) != 0 && exif != nullptr)
    layout.orientation = exif_orientation({exif, exif_size});
  sized(layout, rows, ctx);  // may throw (limits): a C++ throw, not a longjmp
  for (int pass = png_set_interlace_handling(h.png); pass > 0; --pass) {
    for (png_uint_32 y = 0; y < layout.height; ++y)
      png_read_row(h.png, rows.data() + static_cast<size_t>(y) * layout.row_bytes, nullptr);
  }
  png_read_end(h.png, nullptr);
  return true;
}

}  // namespace

DecodedImage decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what) {
  PngSource src{bytes.data(), bytes.size(), 0, {0}};
  PngHandles h;
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_png_error, on_png_warning);
  if (h.png == nullptr) fail(ErrorKind::kInternal, what, ": png_create_read_struct failed");
  h.info = png_create_info_struct(h.png);
  if (h.info == nullptr) fail(ErrorKind::kInternal, what, ": png_create_info_struct failed");
  png_set_read_fn(h.png, &src, on_png_read);
  png_set_user_limits(h.png, static_cast<png_uint_32>(limits.max_side),
                      static_cast<png_uint_32>(limits.max_side));
  png_set_chunk_malloc_max(h.png, 8u << 20);  // caps ancillary chunks (text, ICC, EXIF)
  png_set_chunk_cache_max(h.png, 1000);

  struct SizeCheck {
    const DecodeLimits* limits;
    const std::string* what;
  } check{&limits, &what};
  auto sized = [](const PngLayout& layout, std::vector<uint8_t>& rows, void* ctx) {
    auto* c = static_cast<SizeCheck*>(ctx);
    check_decode_size(layout.width, layout.height, *c->limits, *c->what);
    rows.resize(layout.row_bytes * layout.height);
  };
  PngLayout layout;
  std::vector<uint8_t> rows;
  if (!read_png_rows(h, layout, rows, sized, &check)) {
    const bool too_big = std::strstr(src.message, "exceeds user limit") != nullptr ||
                         std::strstr(src.message, "too large") != nullptr;
    fail(too_big ? ErrorKind::kTooLarge : ErrorKind::kCorrupt, what, ": invalid PNG: ",
         src.message);
  }

  DecodedImage out;
  out.orientation = layout.orientation;
  out.rgb = RgbImage(static_cast<int>(layout.width), static_cast<int>(layout.height));
  const int channels = png_get_channels(h.png, h.info);
  const size_t w = layout.width;
  for (png_uint_32 y = 0; y < layout.height; ++y) {
    const uint8_t* in = rows.data() + static_cast<size_t>(y) * layout.row_bytes;
    uint8_t* o = out.rgb.row(static_cast<int>(y));
    switch (layout.color_type) {
      case PNG_COLOR_TYPE_GRAY:
        if (layout.bit_depth == 16) {  // Pillow: mode "I", then clip to 0..255
          for (size_t x = 0; x < w; ++x) {
            const unsigned v = (unsigned{in[2 * x]} << 8) | in[2 * x + 1];
            o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = static_cast<uint8_t>(v > 255 ? 255 : v);
          }
        } else {
          for (size_t x = 0; x < w; ++x) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = in[x];
        }
        break;
      case PNG_COLOR_TYPE_GRAY_ALPHA:
        for (size_t x = 0; x < w; ++x) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = in[2 * x];
        break;
      case PNG_COLOR_TYPE_PALETTE:
        for (size_t x = 0; x < w; ++x) std::memcpy(o + 3 * x, layout.palette[in[x]], 3);
        break;
      case PNG_COLOR_TYPE_RGB:
      case PNG_COLOR_TYPE_RGB_ALPHA:
        for (size_t x = 0; x < w; ++x) std::memcpy(o + 3 * x, in + channels * x, 3);
        break;
      default:
        fail(ErrorKind::kUnsupported, what, ": PNG color type ", layout.color_type);
    }
  }
  return out;
}

}  // namespace kantu
