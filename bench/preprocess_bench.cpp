// Image input speed: decode a 4000x3000 JPEG (synthetic, quality 90, written once to
// /tmp/kantu_bench_4000x3000.jpg so Pillow can time the same file), then the Qwen3-VL
// preprocessing at the default budget (3008x4000) and at a 1 MP budget.
// Compare with Pillow: /usr/bin/python3 timing Image.open(f).convert("RGB").resize(...).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <vector>
// jpeglib.h needs size_t and FILE first.
#include <jpeglib.h>

#include "core/thread_pool.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "image/resize.h"

namespace kantu {
namespace {

constexpr int kWidth = 4000, kHeight = 3000;
constexpr const char* kPath = "/tmp/kantu_bench_4000x3000.jpg";

// A smooth scene with some texture, so the JPEG has realistic entropy.
std::vector<uint8_t> make_jpeg() {
  std::vector<uint8_t> rgb(static_cast<size_t>(kWidth) * kHeight * 3);
  uint32_t seed = 1;
  for (int y = 0; y < kHeight; ++y)
    for (int x = 0; x < kWidth; ++x) {
      seed = seed * 1664525u + 1013904223u;
      const int n = static_cast<int>(seed >> 28);
      uint8_t* p = &rgb[(static_cast<size_t>(y) * kWidth + x) * 3];
      p[0] = static_cast<uint8_t>(128 + 100 * std::sin(x * 0.003) + n);
      p[1] = static_cast<uint8_t>(128 + 100 * std::cos(y * 0.004) + n);
      p[2] = static_cast<uint8_t>(((x ^ y) >> 3) & 255);
    }
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = kWidth;
  cinfo.image_height = kHeight;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = &rgb[static_cast<size_t>(cinfo.next_scanline) * kWidth * 3];
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  free(buffer);
  std::ofstream(kPath, std::ios::binary)
      .write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

const std::vector<uint8_t>& jpeg() {
  static const std::vector<uint8_t> bytes = make_jpeg();
  return bytes;
}

void BM_DecodeJpeg4000x3000(benchmark::State& state) {
  jpeg();  // encode once, outside the timing
  for (auto _ : state) benchmark::DoNotOptimize(decode_image(jpeg()).pixels.data());
}
BENCHMARK(BM_DecodeJpeg4000x3000)->Unit(benchmark::kMillisecond);

// Decode + smart_resize + resize + normalize + patchify; arg 0 = max_pixels, arg 1 = threads.
void BM_DecodeAndPreprocess(benchmark::State& state) {
  ImagePreprocessConfig config;
  config.max_pixels = state.range(0);
  ThreadPool pool(static_cast<int>(state.range(1)));
  jpeg();
  for (auto _ : state) {
    RgbImage rgb = decode_image(jpeg());
    PreprocessedImage pre = preprocess_image(rgb, config, &pool);
    benchmark::DoNotOptimize(pre.pixel_values.data());
    state.counters["tokens"] = static_cast<double>(pre.num_tokens);
  }
}
BENCHMARK(BM_DecodeAndPreprocess)
    ->Args({16777216, 1})
    ->Args({16777216, 2})
    ->Args({1003520, 1})
    ->Args({1003520, 2})
    ->Unit(benchmark::kMillisecond);

// The resize alone (4000x3000 -> 1152x864, the 1 MP budget's target); arg = threads.
void BM_Resize4000x3000To1MP(benchmark::State& state) {
  const RgbImage rgb = decode_image(jpeg());
  const ResizedSize size = smart_resize(kHeight, kWidth, 32, 65536, 1003520);
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    RgbImage out = resize_bicubic(rgb, static_cast<int>(size.width), static_cast<int>(size.height),
                                  &pool);
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_Resize4000x3000To1MP)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kantu

BENCHMARK_MAIN();
