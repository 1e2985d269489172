// WebP through libwebp's animation decoder, the path Pillow takes for every WebP file:
// the first frame as RGBA on the canvas, alpha then dropped (colour kept).
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>

#include "core/error.h"
#include "image/decoders.h"
#include "image/exif.h"

namespace kantu {

DecodedImage decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                         const std::string& what) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (status == VP8_STATUS_NOT_ENOUGH_DATA)
    fail(ErrorKind::kCorrupt, what, ": truncated WebP header");
  if (status != VP8_STATUS_OK)
    fail(ErrorKind::kCorrupt, what, ": invalid WebP header (libwebp status ", status, ")");
  check_decode_size(features.width, features.height, limits, what);

  const WebPData data{bytes.data(), bytes.size()};
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options))
    fail(ErrorKind::kInternal, what, ": libwebp version mismatch");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  struct DecoderHandle {
    WebPAnimDecoder* dec;
    ~DecoderHandle() { WebPAnimDecoderDelete(dec); }
  } handle{WebPAnimDecoderNew(&data, &options)};
  if (handle.dec == nullptr) fail(ErrorKind::kCorrupt, what, ": invalid or truncated WebP data");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(handle.dec, &info))
    fail(ErrorKind::kCorrupt, what, ": invalid WebP container");
  check_decode_size(info.canvas_width, info.canvas_height, limits, what);
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(handle.dec, &rgba, &timestamp) || rgba == nullptr)
    fail(ErrorKind::kCorrupt, what, ": cannot decode the first WebP frame (corrupt or truncated)");

  DecodedImage out;
  out.rgb = RgbImage(static_cast<int>(info.canvas_width), static_cast<int>(info.canvas_height));
  const size_t n = static_cast<size_t>(out.rgb.num_pixels());
  for (size_t i = 0; i < n; ++i) std::memcpy(&out.rgb.pixels[3 * i], rgba + 4 * i, 3);

  const WebPDemuxer* demux = WebPAnimDecoderGetDemuxer(handle.dec);
  WebPChunkIterator chunk;
  if (demux != nullptr && WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
    out.orientation = exif_orientation({chunk.chunk.bytes, chunk.chunk.size});
    WebPDemuxReleaseChunkIterator(&chunk);
  }
  return out;
}

}  // namespace kantu
