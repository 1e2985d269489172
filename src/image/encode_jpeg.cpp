// libjpeg reports errors by longjmp: the frame that calls setjmp (compress) holds plain
// data only; the output buffer, owned by libjpeg until jpeg_destroy, is copied out after.
#include <csetjmp>
#include <cstddef>
#include <cstdio>
// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#include <cstdlib>

#include "core/error.h"
#include "image/encode_jpeg.h"

namespace kantu {
namespace {

struct Errors {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<Errors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Returns false (with err.message) when libjpeg fails; *out and *size are libjpeg's buffer.
bool compress(jpeg_compress_struct* cinfo, Errors* err, const RgbImage& image, int quality,
              unsigned char** out, unsigned long* size) {
  if (setjmp(err->jump)) return false;
  jpeg_mem_dest(cinfo, out, size);
  cinfo->image_width = static_cast<JDIMENSION>(image.width);
  cinfo->image_height = static_cast<JDIMENSION>(image.height);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.row(static_cast<int>(cinfo->next_scanline)));
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

}  // namespace

std::string encode_jpeg(const RgbImage& image, int quality) {
  if (image.width < 1 || image.height < 1) fail(ErrorKind::kInvalidArgument, "encode_jpeg: empty image");
  if (quality < 1 || quality > 100) fail(ErrorKind::kInvalidArgument, "encode_jpeg: quality ", quality, " outside 1..100");
  jpeg_compress_struct cinfo{};
  Errors err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool ok = compress(&cinfo, &err, image, quality, &buffer, &size);
  jpeg_destroy_compress(&cinfo);
  std::string out;
  if (ok && buffer) out.assign(reinterpret_cast<const char*>(buffer), size);
  std::free(buffer);
  if (!ok) fail(ErrorKind::kInternal, "encode_jpeg: ", err.message);
  return out;
}

}  // namespace kantu
