// A decoded picture in the one layout the rest of kantu uses: 8-bit RGB, interleaved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kantu {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3], row-major, RGB interleaved

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3) {}

  int64_t num_pixels() const { return static_cast<int64_t>(width) * height; }
  uint8_t* row(int y) { return pixels.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return pixels.data() + static_cast<size_t>(y) * width * 3; }
};

}  // namespace kantu
