// GIF (first frame only) through giflib, as Pillow 9.4 shows it: the first image's
// indices through its local palette, or the global one, drawn at its offset on a canvas
// of the logical screen size (grown to hold the frame) that is filled with the frame's
// transparent index if it has one, else index 0. Palette entries past the table are a
// grey ramp (index i -> (i, i, i)), as in Pillow's default palette.
#include <gif_lib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace kantu {
namespace {

struct GifSource {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int read_gif(GifFileType* gif, GifByteType* out, int n) {
  auto* src = static_cast<GifSource*>(gif->UserData);
  if (n < 0) return 0;
  const size_t take = std::min(static_cast<size_t>(n), src->size - src->pos);
  std::memcpy(out, src->data + src->pos, take);
  src->pos += take;
  return static_cast<int>(take);
}

struct GifHandle {
  GifFileType* gif = nullptr;
  ~GifHandle() {
    int error = 0;
    if (gif != nullptr) DGifCloseFile(gif, &error);
  }
};

[[noreturn]] void gif_fail(const std::string& what, int error) {
  const char* message = GifErrorString(error);
  fail(ErrorKind::kCorrupt, what, ": invalid GIF: ", message != nullptr ? message : "error");
}

}  // namespace

DecodedImage decode_gif(std::span<const uint8_t> bytes, const DecodeLimits& limits,
                        const std::string& what) {
  GifSource src{bytes.data(), bytes.size(), 0};
  int error = 0;
  GifHandle h;
  h.gif = DGifOpen(&src, read_gif, &error);
  if (h.gif == nullptr) gif_fail(what, error);
  GifFileType* gif = h.gif;
  int transparent = -1;
  for (;;) {
    GifRecordType record;
    if (DGifGetRecordType(gif, &record) == GIF_ERROR) gif_fail(what, gif->Error);
    if (record == TERMINATE_RECORD_TYPE)
      fail(ErrorKind::kCorrupt, what, ": GIF has no image");
    if (record == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif, &code, &ext) == GIF_ERROR) gif_fail(what, gif->Error);
      if (code == GRAPHICS_EXT_FUNC_CODE && ext != nullptr && ext[0] >= 4 && (ext[1] & 1))
        transparent = ext[4];
      while (ext != nullptr) {
        if (DGifGetExtensionNext(gif, &ext) == GIF_ERROR) gif_fail(what, gif->Error);
      }
      continue;
    }
    if (record != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) gif_fail(what, gif->Error);
    const GifImageDesc& desc = gif->Image;
    const int64_t left = desc.Left, top = desc.Top, fw = desc.Width, fh = desc.Height;
    if (fw <= 0 || fh <= 0) fail(ErrorKind::kCorrupt, what, ": GIF frame has an empty size");
    const int64_t width = std::max<int64_t>(gif->SWidth, left + fw);
    const int64_t height = std::max<int64_t>(gif->SHeight, top + fh);
    check_decode_size(width, height, limits, what);

    const ColorMapObject* map = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
    uint8_t palette[256][3];
    for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = i;
    if (map != nullptr && map->Colors != nullptr) {
      for (int i = 0; i < map->ColorCount && i < 256; ++i) {
        palette[i][0] = map->Colors[i].Red;
        palette[i][1] = map->Colors[i].Green;
        palette[i][2] = map->Colors[i].Blue;
      }
    }
    std::vector<uint8_t> indices(static_cast<size_t>(width * height),
                                 static_cast<uint8_t>(transparent >= 0 ? transparent : 0));
    std::vector<int> row_order(fh);
    if (desc.Interlace) {
      int next = 0;
      const int starts[4] = {0, 4, 2, 1}, steps[4] = {8, 8, 4, 2};
      for (int pass = 0; pass < 4; ++pass)
        for (int64_t y = starts[pass]; y < fh; y += steps[pass]) row_order[next++] = static_cast<int>(y);
    } else {
      for (int64_t y = 0; y < fh; ++y) row_order[y] = static_cast<int>(y);
    }
    for (int64_t i = 0; i < fh; ++i) {
      uint8_t* line = indices.data() + (top + row_order[i]) * width + left;
      if (DGifGetLine(gif, line, static_cast<int>(fw)) == GIF_ERROR) gif_fail(what, gif->Error);
    }
    DecodedImage out;
    out.rgb = RgbImage(static_cast<int>(width), static_cast<int>(height));
    for (size_t p = 0; p < indices.size(); ++p) std::memcpy(&out.rgb.pixels[3 * p], palette[indices[p]], 3);
    return out;
  }
}

}  // namespace kantu
