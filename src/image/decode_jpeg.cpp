// JPEG through libjpeg-turbo with the decoder settings Pillow uses (the library
// defaults: ISLOW DCT, fancy upsampling), so pixels are identical to Pillow's.
// Grey → replicated; CMYK/YCCK → decoded to CMYK, inverted as Pillow's "CMYK;I" rawmode
// does (it assumes Adobe conventions), then Pillow's cmyk2rgb.
// libjpeg reports errors by longjmp: the frames that call setjmp (read_header,
// read_pixels) hold plain data only; C++ objects are owned by decode_jpeg.
#include <csetjmp>
#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jerror.h>
#include <jpeglib.h>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"
#include "image/exif.h"

namespace kantu {
namespace {

constexpr int kMaxScans = 1000;  // a progressive file with more scans is a CPU bomb

struct JpegErrors {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
  bool too_many_scans;
};

void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_jpeg_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
  // jpeg_mem_src inserts a fake EOI at the end of the data and warns: a truncated file.
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

void on_jpeg_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > kMaxScans) {
    auto* err = reinterpret_cast<JpegErrors*>(cinfo->err);
    err->too_many_scans = true;
    std::snprintf(err->message, sizeof(err->message), "more than %d scans", kMaxScans);
    std::longjmp(err->jump, 1);
  }
}

struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrors err;
  jpeg_progress_mgr progress;
  bool created = false;
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

bool read_header(JpegDecoder& d, const uint8_t* data, size_t size) {
  if (setjmp(d.err.jump)) return false;
  jpeg_create_decompress(&d.cinfo);
  d.created = true;
  d.progress.progress_monitor = on_jpeg_progress;
  d.cinfo.progress = &d.progress;
  jpeg_mem_src(&d.cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&d.cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&d.cinfo, TRUE);
  switch (d.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: d.cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: d.cinfo.out_color_space = JCS_CMYK; break;
    default: d.cinfo.out_color_space = JCS_RGB; break;
  }
  jpeg_calc_output_dimensions(&d.cinfo);
  return true;
}

using RowConverter = void (*)(const uint8_t* in, uint8_t* out, JDIMENSION width);

void gray_to_rgb(const uint8_t* in, uint8_t* out, JDIMENSION width) {
  for (JDIMENSION x = 0; x < width; ++x) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[x];
}

// Pillow: "CMYK;I" unpack (255 - v), then cmyk2rgb with MULDIV255 rounding.
void inverted_cmyk_to_rgb(const uint8_t* in, uint8_t* out, JDIMENSION width) {
  for (JDIMENSION x = 0; x < width; ++x) {
    const int nk = in[4 * x + 3];  // 255 - (255 - k)
    for (int c = 0; c < 3; ++c) {
      const int v = 255 - in[4 * x + c];
      const int t = v * nk + 128;
      const int r = nk - (((t >> 8) + t) >> 8);
      out[3 * x + c] = static_cast<uint8_t>(r < 0 ? 0 : (r > 255 ? 255 : r));
    }
  }
}

// Decodes every row into out (3 bytes per pixel), through `scratch` and `convert` when
// the decoder's output is not RGB.
bool read_pixels(JpegDecoder& d, uint8_t* out, uint8_t* scratch, RowConverter convert) {
  if (setjmp(d.err.jump)) return false;
  jpeg_start_decompress(&d.cinfo);
  const size_t stride = static_cast<size_t>(d.cinfo.output_width) * 3;
  while (d.cinfo.output_scanline < d.cinfo.output_height) {
    uint8_t* dst = out + d.cinfo.output_scanline * stride;
    JSAMPROW row = convert != nullptr ? scratch : dst;
    if (jpeg_read_scanlines(&d.cinfo, &row, 1) != 1) {
      std::snprintf(d.err.message, sizeof(d.err.message), "decoder returned no row");
      return false;
    }
    if (convert != nullptr) convert(scratch, dst, d.cinfo.output_width);
  }
  jpeg_finish_decompress(&d.cinfo);
  return true;
}

int orientation_from_markers(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
        std::memcmp(m->data, "Exif\0\0", 6) == 0)
      return exif_orientation({m->data, m->data_length});
  }
  return 1;
}

}  // namespace

DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                         const std::string& what) {
  JpegDecoder d;
  std::memset(&d.err, 0, sizeof(d.err));
  d.cinfo.err = jpeg_std_error(&d.err.pub);
  d.err.pub.error_exit = on_jpeg_error;
  d.err.pub.emit_message = on_jpeg_message;
  if (!read_header(d, bytes.data(), bytes.size()))
    fail(ErrorKind::kCorrupt, what, ": invalid JPEG: ", d.err.message);
  check_decode_size(d.cinfo.output_width, d.cinfo.output_height, limits, what);
  const int components = d.cinfo.out_color_components;
  RowConverter convert = nullptr;
  if (d.cinfo.out_color_space == JCS_GRAYSCALE && components == 1) {
    convert = gray_to_rgb;
  } else if (d.cinfo.out_color_space == JCS_CMYK && components == 4) {
    convert = inverted_cmyk_to_rgb;
  } else if (!(d.cinfo.out_color_space == JCS_RGB && components == 3)) {
    fail(ErrorKind::kUnsupported, what, ": JPEG with ", components, " output components");
  }
  DecodedImage out;
  out.orientation = orientation_from_markers(d.cinfo);
  out.rgb = RgbImage(static_cast<int>(d.cinfo.output_width),
                     static_cast<int>(d.cinfo.output_height));
  std::vector<uint8_t> scratch(static_cast<size_t>(d.cinfo.output_width) * components);
  const bool ok = read_pixels(d, out.rgb.pixels.data(), scratch.data(), convert);
  if (!ok) {
    fail(d.err.too_many_scans ? ErrorKind::kTooLarge : ErrorKind::kCorrupt, what,
         ": invalid JPEG: ", d.err.message);
  }
  if (d.err.truncated) fail(ErrorKind::kCorrupt, what, ": truncated JPEG (data ends early)");
  return out;
}

}  // namespace kantu
