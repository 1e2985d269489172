#include "image/decode.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"
#include "image/exif.h"

namespace kantu {
namespace {

bool starts_with(std::span<const uint8_t> bytes, const char* magic, size_t n, size_t at = 0) {
  return bytes.size() >= at + n && std::memcmp(bytes.data() + at, magic, n) == 0;
}

}  // namespace

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kWebp: return "webp";
    case ImageFormat::kGif: return "gif";
    case ImageFormat::kBmp: return "bmp";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

ImageFormat detect_image_format(std::span<const uint8_t> bytes) {
  if (starts_with(bytes, "\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (starts_with(bytes, "RIFF", 4) && starts_with(bytes, "WEBP", 4, 8)) return ImageFormat::kWebp;
  if (starts_with(bytes, "GIF87a", 6) || starts_with(bytes, "GIF89a", 6)) return ImageFormat::kGif;
  if (starts_with(bytes, "BM", 2)) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

void check_decode_size(int64_t width, int64_t height, const DecodeLimits& limits,
                       const std::string& what) {
  if (width <= 0 || height <= 0)
    fail(ErrorKind::kCorrupt, what, ": image has an empty size ", width, "x", height);
  if (width > limits.max_side || height > limits.max_side)
    fail(ErrorKind::kTooLarge, what, ": image size ", width, "x", height,
         " exceeds the limit of ", limits.max_side, " pixels per side");
  if (width * height > limits.max_pixels)
    fail(ErrorKind::kTooLarge, what, ": image size ", width, "x", height, " = ", width * height,
         " pixels exceeds the limit of ", limits.max_pixels, " pixels");
  if (limits.on_size) limits.on_size(width, height);
}

namespace {
struct SizeFound {
  StoredSize size;
};
}  // namespace

StoredSize probe_image_size(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                            const std::string& what) {
  DecodeLimits probe = limits;
  probe.on_size = [](int64_t width, int64_t height) { throw SizeFound{{width, height}}; };
  try {
    decode_image(bytes, probe, what);
  } catch (const SizeFound& found) {
    return found.size;
  }
  fail(ErrorKind::kInternal, what, ": decoded without reporting its size");
}

size_t decode_peak_bytes(int64_t width, int64_t height) {
  // The widest decoder buffer is 8 bytes a pixel (16-bit RGBA PNG rows; WebP keeps 4 plus
  // its canvas), then the 3-byte RGB result and its rotated copy.
  return static_cast<size_t>(width * height) * (8 + 3 + 3);
}

RgbImage decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                      const std::string& what) {
  if (bytes.empty()) fail(ErrorKind::kCorrupt, what, ": empty input (0 bytes)");
  if (bytes.size() > limits.max_encoded_bytes)
    fail(ErrorKind::kTooLarge, what, ": ", bytes.size(), " encoded bytes exceed the limit of ",
         limits.max_encoded_bytes);
  DecodedImage decoded;
  switch (detect_image_format(bytes)) {
    case ImageFormat::kJpeg: decoded = decode_jpeg(bytes, limits, what); break;
    case ImageFormat::kPng: decoded = decode_png(bytes, limits, what); break;
    case ImageFormat::kWebp: decoded = decode_webp(bytes, limits, what); break;
    case ImageFormat::kGif: decoded = decode_gif(bytes, limits, what); break;
    case ImageFormat::kBmp: decoded = decode_bmp(bytes, limits, what); break;
    case ImageFormat::kUnknown:
      fail(ErrorKind::kUnsupported, what,
           ": not a recognised image format (expected JPEG, PNG, WebP, GIF or BMP data)");
  }
  return apply_orientation(std::move(decoded.rgb), decoded.orientation);
}

RgbImage decode_image_file(const std::string& path, const DecodeLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kNotFound, path, ": cannot open image file");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    fail(ErrorKind::kInvalidArgument, path, ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > limits.max_encoded_bytes)
    fail(ErrorKind::kTooLarge, path, ": ", st.st_size, " bytes exceed the limit of ",
         limits.max_encoded_bytes, " encoded bytes");
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(in.gcount()) != bytes.size())
    fail(ErrorKind::kCorrupt, path, ": short read");
  return decode_image(bytes, limits, path);
}

}  // namespace kantu
