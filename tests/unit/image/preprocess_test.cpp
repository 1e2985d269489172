// smart_resize rules, the resampler's invariants and kernels, normalisation and the
// patch layout (checked against a direct transcription of the reference's 9-D permute).
#include "image/preprocess.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/thread_pool.h"
#include "image/resize.h"
#include "image/resize_kernels.h"

namespace kantu {
namespace {

ResizedSize sr(int64_t h, int64_t w, int64_t min_px = 65536, int64_t max_px = 16777216) {
  return smart_resize(h, w, 32, min_px, max_px);
}

TEST(SmartResize, RoundsHalfToEven) {
  EXPECT_EQ(round_half_even(22.5), 22);
  EXPECT_EQ(round_half_even(12.5), 12);
  EXPECT_EQ(round_half_even(23.5), 24);
  EXPECT_EQ(round_half_even(-0.5), 0);
  EXPECT_EQ(round_half_even(2.4999), 2);
  ResizedSize a = sr(400, 720);  // 720/32 = 22.5 -> 22, 400/32 = 12.5 -> 12
  EXPECT_EQ(a.height, 384);
  EXPECT_EQ(a.width, 704);
  ResizedSize b = sr(720, 1280);
  EXPECT_EQ(b.height, 704);
  EXPECT_EQ(b.width, 1280);
  ResizedSize c = sr(752, 752);  // 23.5 -> 24
  EXPECT_EQ(c.height, 768);
}

TEST(SmartResize, AppliesMinAndMaxBudgets) {
  ResizedSize up = sr(224, 224);  // 224*224 < 65536: ceil branch
  EXPECT_EQ(up.height, 256);
  EXPECT_EQ(up.width, 256);
  ResizedSize down = sr(768, 1024, 65536, 200000);  // floor branch
  EXPECT_EQ(down.height, 384);
  EXPECT_EQ(down.width, 512);
  EXPECT_LE(down.height * down.width, 200000);
  ResizedSize big = sr(3000, 4000);
  EXPECT_EQ(big.height, 3008);
  EXPECT_EQ(big.width, 4000);
  ResizedSize huge = sr(12000, 16000);
  EXPECT_LE(huge.height * huge.width, 16777216);
  EXPECT_EQ(huge.height % 32, 0);
  EXPECT_EQ(huge.width % 32, 0);
}

TEST(SmartResize, TinyImagesAndAspectRatio) {
  ResizedSize one = sr(1, 1);
  EXPECT_EQ(one.height, 256);
  EXPECT_EQ(one.width, 256);
  ResizedSize thin = sr(10, 2000);  // ratio 200 is allowed
  EXPECT_EQ(thin.height % 32, 0);
  EXPECT_GE(thin.height, 32);
  ResizedSize no_min = smart_resize(8, 8, 32, 0, 1 << 20);  // would be 0x0: clamped
  EXPECT_EQ(no_min.height, 32);
  try {
    sr(10, 2001);
    FAIL() << "aspect ratio > 200 must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("aspect ratio"), std::string::npos);
  }
  EXPECT_THROW(sr(0, 10), Error);
  EXPECT_THROW(sr(10, -1), Error);
  EXPECT_THROW(sr(100, 100, 1000, 10), Error);
}

RgbImage noise(int w, int h, uint32_t seed) {
  RgbImage img(w, h);
  for (auto& v : img.pixels) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<uint8_t>(seed >> 24);
  }
  return img;
}

TEST(Resize, SameSizeIsACopyAndFlatStaysFlat) {
  RgbImage img = noise(17, 11, 1);
  EXPECT_EQ(resize_bicubic(img, 17, 11).pixels, img.pixels);
  RgbImage flat(40, 30);
  for (size_t i = 0; i < flat.pixels.size(); ++i) flat.pixels[i] = static_cast<uint8_t>(50 + i % 3);
  for (auto [w, h] : {std::pair{13, 7}, {64, 96}, {40, 5}, {3, 30}}) {
    RgbImage r = resize_bicubic(flat, w, h);
    ASSERT_EQ(r.width, w);
    ASSERT_EQ(r.height, h);
    for (size_t i = 0; i < r.pixels.size(); ++i) ASSERT_EQ(r.pixels[i], 50 + i % 3) << i;
  }
  EXPECT_THROW(resize_bicubic(img, 0, 5), Error);
}

TEST(Resize, ThreadsAndKernelsGiveIdenticalBytes) {
  RgbImage img = noise(333, 517, 7);
  ThreadPool pool(2);
  for (auto [w, h] : {std::pair{224, 352}, {640, 1024}, {333, 100}, {50, 517}}) {
    RgbImage a = resize_bicubic(img, w, h);
    RgbImage b = resize_bicubic(img, w, h, &pool);
    EXPECT_EQ(a.pixels, b.pixels);
  }
  // The AVX2 build of the loops against the scalar one.
  ResampleKernels scalar = resample_kernels_scalar();
  const ResampleKernels& best = resample_kernels();
  ResampleAxis axis;
  axis.ksize = 5;
  const int out_w = 37;
  for (int x = 0; x < out_w; ++x) {
    axis.first.push_back(x * 2);
    axis.count.push_back(1 + x % 5);
    for (int k = 0; k < 5; ++k) axis.coeffs.push_back((k * 911 + x * 77) % 2000000 - 1000000);
  }
  std::vector<uint8_t> o1(out_w * 3), o2(out_w * 3);
  scalar.horizontal(img.row(0), o1.data(), out_w, axis);
  best.horizontal(img.row(0), o2.data(), out_w, axis);
  EXPECT_EQ(o1, o2);
  const size_t n = 333 * 3;
  std::vector<int32_t> acc(n), k = {-300000, 2000000, 3000000, -500000, 12345};
  std::vector<uint8_t> v1(n), v2(n);
  scalar.vertical(img.row(3), n, 5, k.data(), v1.data(), n, acc.data());
  best.vertical(img.row(3), n, 5, k.data(), v2.data(), n, acc.data());
  EXPECT_EQ(v1, v2);
}

TEST(Normalize, FusedRescaleAndNormalize) {
  ImagePreprocessConfig config;
  config.image_mean = {0.48145466, 0.4578275, 0.40821073};
  config.image_std = {0.26862954, 0.26130258, 0.27577711};
  auto table = normalize_table(config);
  for (int c = 0; c < 3; ++c)
    for (int v : {0, 1, 127, 128, 254, 255})
      EXPECT_NEAR(table[c][v], (v / 255.0 - config.image_mean[c]) / config.image_std[c], 2e-6);
  ImagePreprocessConfig bad;
  bad.image_std[1] = 0;
  EXPECT_THROW(validate(bad), Error);
}

TEST(Patchify, MatchesTheReferencePermute) {
  // Reference: frames viewed as (gt, T, C, gh/m, m, P, gw/m, m, P), permuted to
  // (gt, gh/m, gw/m, m, m, C, T, P, P) and flattened.
  ImagePreprocessConfig config;
  config.patch_size = 4;  // small shapes; same code path
  const int p = 4, m = 2, tp = 2, h = 16, w = 24;
  std::vector<RgbImage> frames = {noise(w, h, 1), noise(w, h, 2), noise(w, h, 3), noise(w, h, 4)};
  std::vector<const RgbImage*> ptrs = {&frames[0], &frames[1], &frames[2], &frames[3]};
  const int gt = 2, gh = h / p, gw = w / p, dim = 3 * tp * p * p;
  std::vector<float> out(static_cast<size_t>(gt) * gh * gw * dim);
  patchify(ptrs, config, out.data());
  auto table = normalize_table(config);
  size_t i = 0;
  for (int t = 0; t < gt; ++t)
    for (int bh = 0; bh < gh / m; ++bh)
      for (int bw = 0; bw < gw / m; ++bw)
        for (int r = 0; r < m; ++r)
          for (int cc = 0; cc < m; ++cc)
            for (int ch = 0; ch < 3; ++ch)
              for (int tt = 0; tt < tp; ++tt)
                for (int py = 0; py < p; ++py)
                  for (int px = 0; px < p; ++px, ++i) {
                    const RgbImage& f = frames[t * tp + tt];
                    const int y = (bh * m + r) * p + py, x = (bw * m + cc) * p + px;
                    ASSERT_EQ(out[i], table[ch][f.row(y)[3 * x + ch]]) << "element " << i;
                  }
  EXPECT_EQ(i, out.size());
  EXPECT_THROW(patchify({&frames[0]}, config, out.data()), Error);  // 1 frame, T = 2
}

TEST(Preprocess, GridTokensAndThreads) {
  RgbImage img = noise(500, 375, 9);
  ThreadPool pool(2);
  PreprocessedImage a = preprocess_image(img, ImagePreprocessConfig{});
  PreprocessedImage b = preprocess_image(img, ImagePreprocessConfig{}, &pool);
  EXPECT_EQ(a.grid.h, 24);
  EXPECT_EQ(a.grid.w, 32);
  EXPECT_EQ(a.num_tokens, 192);
  EXPECT_EQ(a.pixel_values.size(), size_t{768} * 1536);
  EXPECT_EQ(a.pixel_values, b.pixel_values);
  EXPECT_THROW(preprocess_image(RgbImage{}, ImagePreprocessConfig{}), Error);
}

}  // namespace
}  // namespace kantu
