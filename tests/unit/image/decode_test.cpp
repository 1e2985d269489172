// Decoders: each format's conversion rules (decode.h) on images built in the test, EXIF
// orientation, and hostile input (truncated, corrupt, mislabelled, oversized, empty).
#include "image/decode.h"

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>

#include "core/error.h"
#include "image/exif.h"
#include "test_encoders.h"

namespace kantu {
namespace {

using test::Bytes;

// push_back one by one: GCC 12 gives a false -Warray-bounds on insert(initializer_list).
void append(Bytes& b, std::initializer_list<uint8_t> values) {
  for (uint8_t v : values) b.push_back(v);
}

RgbImage decode(const Bytes& b, const DecodeLimits& limits = {}) {
  return decode_image(b, limits, "test");
}

void expect_error(const std::function<void()>& fn, ErrorKind kind, const std::string& fragment) {
  try {
    fn();
    ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

Bytes gradient_rgb(int w, int h) {
  Bytes b(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &b[(static_cast<size_t>(y) * w + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / std::max(1, w - 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(1, h - 1));
      p[2] = static_cast<uint8_t>((x * 7 + y * 13) & 255);
    }
  return b;
}

TEST(DecodeFormat, DetectsFromMagicBytes) {
  using namespace std::string_literals;  // the magic strings hold NUL bytes
  auto fmt = [](const std::string& s) {
    return detect_image_format({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(fmt("\xFF\xD8\xFF\xE0"s), ImageFormat::kJpeg);
  EXPECT_EQ(fmt("\x89PNG\r\n\x1A\n"s), ImageFormat::kPng);
  EXPECT_EQ(fmt("RIFF\x10\0\0\0WEBPVP8 "s), ImageFormat::kWebp);
  EXPECT_EQ(fmt("GIF89a"s), ImageFormat::kGif);
  EXPECT_EQ(fmt("GIF87a"s), ImageFormat::kGif);
  EXPECT_EQ(fmt("BM\0\0"s), ImageFormat::kBmp);
  EXPECT_EQ(fmt("RIFF\x10\0\0\0WAVE"s), ImageFormat::kUnknown);
  EXPECT_EQ(fmt("\x89PN"s), ImageFormat::kUnknown);
  EXPECT_EQ(fmt(""), ImageFormat::kUnknown);
}

TEST(DecodePng, RgbAndInterlacedAreExact) {
  test::PngSpec s{.width = 13, .height = 9, .color_type = PNG_COLOR_TYPE_RGB};
  s.samples = gradient_rgb(13, 9);
  RgbImage a = decode(test::encode_png(s));
  EXPECT_EQ(a.width, 13);
  EXPECT_EQ(a.height, 9);
  EXPECT_EQ(a.pixels, s.samples);
  s.interlaced = true;
  EXPECT_EQ(decode(test::encode_png(s)).pixels, s.samples);
}

TEST(DecodePng, GreyAlphaPaletteAnd16BitFollowPillow) {
  // 8-bit grey + alpha: grey replicated, alpha dropped (not blended).
  test::PngSpec la{.width = 2, .height = 1, .color_type = PNG_COLOR_TYPE_GRAY_ALPHA};
  la.samples = {10, 0, 200, 128};
  EXPECT_EQ(decode(test::encode_png(la)).pixels, (Bytes{10, 10, 10, 200, 200, 200}));
  // RGBA: colour kept where alpha is 0.
  test::PngSpec rgba{.width = 1, .height = 1, .color_type = PNG_COLOR_TYPE_RGB_ALPHA};
  rgba.samples = {50, 60, 70, 0};
  EXPECT_EQ(decode(test::encode_png(rgba)).pixels, (Bytes{50, 60, 70}));
  // 16-bit RGB: high byte.
  test::PngSpec rgb16{.width = 1, .height = 1, .color_type = PNG_COLOR_TYPE_RGB, .bit_depth = 16};
  rgb16.samples = {0x12, 0xff, 0xab, 0x01, 0x00, 0x80};
  EXPECT_EQ(decode(test::encode_png(rgb16)).pixels, (Bytes{0x12, 0xab, 0x00}));
  // 16-bit grey: Pillow's "I" mode clipped to 0..255.
  test::PngSpec g16{.width = 3, .height = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 16};
  g16.samples = {0x00, 0x7f, 0x01, 0x00, 0xff, 0xff};
  EXPECT_EQ(decode(test::encode_png(g16)).pixels,
            (Bytes{0x7f, 0x7f, 0x7f, 255, 255, 255, 255, 255, 255}));
  // 1-bit grey: 0 / 255.
  test::PngSpec g1{.width = 3, .height = 1, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 1};
  g1.samples = {0b10100000};
  EXPECT_EQ(decode(test::encode_png(g1)).pixels, (Bytes{255, 255, 255, 0, 0, 0, 255, 255, 255}));
  // Palette with tRNS (ignored) and an index past the table (grey ramp, as Pillow).
  test::PngSpec p{.width = 3, .height = 1, .color_type = PNG_COLOR_TYPE_PALETTE};
  p.palette = {{1, 2, 3}, {4, 5, 6}};
  p.trns = {0, 128};
  p.samples = {1, 0, 7};
  EXPECT_EQ(decode(test::encode_png(p)).pixels, (Bytes{4, 5, 6, 1, 2, 3, 7, 7, 7}));
}

TEST(DecodeJpeg, RgbGreyAndCmyk) {
  // Flat colours survive JPEG nearly exactly; the checks are about channel handling.
  Bytes rgb(16 * 16 * 3);
  for (size_t i = 0; i < rgb.size(); i += 3) { rgb[i] = 200; rgb[i + 1] = 40; rgb[i + 2] = 90; }
  RgbImage a = decode(test::encode_jpeg(16, 16, 3, rgb));
  ASSERT_EQ(a.width, 16);
  EXPECT_NEAR(a.pixels[0], 200, 2);
  EXPECT_NEAR(a.pixels[1], 40, 2);
  EXPECT_NEAR(a.pixels[2], 90, 2);
  RgbImage g = decode(test::encode_jpeg(8, 8, 1, Bytes(64, 77)));
  EXPECT_EQ(g.pixels[0], g.pixels[1]);
  EXPECT_EQ(g.pixels[1], g.pixels[2]);
  EXPECT_NEAR(g.pixels[0], 77, 1);
  // CMYK as stored: Pillow inverts (Adobe convention), then cmyk2rgb:
  // with c' = 255 - stored_c, k' = 255 - stored_k: r = (255 - k') - c'(255 - k')/255.
  const int sc = 155, sk = 205;
  Bytes cmyk;
  for (int i = 0; i < 64; ++i) append(cmyk, {uint8_t(sc), uint8_t(sc), uint8_t(sc), uint8_t(sk)});
  RgbImage c = decode(test::encode_jpeg(8, 8, 4, cmyk));
  const double cp = 255 - sc, kp = 255 - sk;
  const double expected = (255 - kp) - cp * (255 - kp) / 255.0;
  EXPECT_NEAR(c.pixels[0], expected, 3);
}

TEST(DecodeExif, ParsesOrientationAndIgnoresGarbage) {
  for (int o = 1; o <= 8; ++o) {
    EXPECT_EQ(exif_orientation(test::exif_with_orientation(o, true)), o);
    EXPECT_EQ(exif_orientation(test::exif_with_orientation(o, false)), o);
  }
  Bytes big = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0};
  EXPECT_EQ(exif_orientation(big), 6);
  EXPECT_EQ(exif_orientation(test::exif_with_orientation(9, false)), 1);
  Bytes cut = test::exif_with_orientation(6, false);
  cut.resize(14);
  EXPECT_EQ(exif_orientation(cut), 1);
  Bytes bad_ifd = test::exif_with_orientation(6, false);
  bad_ifd[4] = 0xff;  // IFD offset past the end
  EXPECT_EQ(exif_orientation(bad_ifd), 1);
  EXPECT_EQ(exif_orientation({}), 1);
}

TEST(DecodeExif, AppliesAllEightOrientations) {
  // 3x2 image with distinct pixels p(x, y) = 10*y + x (in R).
  RgbImage img(3, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) img.row(y)[3 * x] = static_cast<uint8_t>(10 * y + x);
  auto r = [](const RgbImage& im) {
    std::vector<int> v;
    for (int y = 0; y < im.height; ++y)
      for (int x = 0; x < im.width; ++x) v.push_back(im.row(y)[3 * x]);
    return v;
  };
  EXPECT_EQ(r(apply_orientation(img, 1)), (std::vector<int>{0, 1, 2, 10, 11, 12}));
  EXPECT_EQ(r(apply_orientation(img, 2)), (std::vector<int>{2, 1, 0, 12, 11, 10}));
  EXPECT_EQ(r(apply_orientation(img, 3)), (std::vector<int>{12, 11, 10, 2, 1, 0}));
  EXPECT_EQ(r(apply_orientation(img, 4)), (std::vector<int>{10, 11, 12, 0, 1, 2}));
  EXPECT_EQ(r(apply_orientation(img, 5)), (std::vector<int>{0, 10, 1, 11, 2, 12}));
  EXPECT_EQ(r(apply_orientation(img, 6)), (std::vector<int>{10, 0, 11, 1, 12, 2}));
  EXPECT_EQ(r(apply_orientation(img, 7)), (std::vector<int>{12, 2, 11, 1, 10, 0}));
  EXPECT_EQ(r(apply_orientation(img, 8)), (std::vector<int>{2, 12, 1, 11, 0, 10}));
  EXPECT_EQ(apply_orientation(img, 6).width, 2);
}

TEST(DecodeExif, JpegAndPngOrientationIsApplied) {
  // Left half red, right half blue, 32x16; orientation 6 (rotate 90 clockwise) puts the
  // left half on top.
  Bytes rgb(32 * 16 * 3);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 32; ++x) rgb[(y * 32 + x) * 3 + (x < 16 ? 0 : 2)] = 255;
  RgbImage j = decode(test::encode_jpeg(32, 16, 3, rgb, 95, test::exif_with_orientation(6, true)));
  ASSERT_EQ(j.width, 16);
  ASSERT_EQ(j.height, 32);
  EXPECT_GT(j.row(2)[3 * 8], 200);      // top: red
  EXPECT_GT(j.row(29)[3 * 8 + 2], 200);  // bottom: blue
  test::PngSpec s{.width = 32, .height = 16, .color_type = PNG_COLOR_TYPE_RGB};
  s.samples = rgb;
  s.exif = test::exif_with_orientation(8, false);  // 90 counter-clockwise: left half at bottom
  RgbImage p = decode(test::encode_png(s));
  ASSERT_EQ(p.width, 16);
  EXPECT_EQ(p.row(31)[0], 255);
  EXPECT_EQ(p.row(0)[2], 255);
}

TEST(DecodeGif, FirstFrameOnCanvasWithPalette) {
  std::vector<GifColorType> colors = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {9, 9, 9}};
  Bytes idx = {1, 2, 2, 1, 1, 2};  // 3x2 frame
  // Frame at (1,1) on a 5x4 screen; outside the frame: the transparent index 3.
  RgbImage a = decode(test::encode_gif(5, 4, 1, 1, 3, 2, colors, idx, 3));
  ASSERT_EQ(a.width, 5);
  ASSERT_EQ(a.height, 4);
  EXPECT_EQ(Bytes(a.row(0), a.row(0) + 3), (Bytes{9, 9, 9}));
  EXPECT_EQ(Bytes(a.row(1) + 3, a.row(1) + 6), (Bytes{255, 0, 0}));
  EXPECT_EQ(Bytes(a.row(2) + 9, a.row(2) + 12), (Bytes{0, 255, 0}));
  // Without transparency, index 0 fills; interlaced rows land in place.
  Bytes tall(3 * 11);
  for (int y = 0; y < 11; ++y) tall[y * 3] = static_cast<uint8_t>(y % 3);
  RgbImage b = decode(test::encode_gif(3, 11, 0, 0, 3, 11, colors, tall, -1, true));
  for (int y = 0; y < 11; ++y) {
    const GifColorType& c = colors[y % 3];
    EXPECT_EQ(Bytes(b.row(y), b.row(y) + 3), (Bytes{c.Red, c.Green, c.Blue})) << "row " << y;
  }
}

TEST(DecodeWebp, LosslessAndAlphaRule) {
  Bytes rgba;
  const Bytes rgb = gradient_rgb(7, 5);
  for (size_t i = 0; i < rgb.size(); i += 3) append(rgba, {rgb[i], rgb[i + 1], rgb[i + 2], 255});
  RgbImage a = decode(test::encode_webp_lossless(7, 5, rgba));
  EXPECT_EQ(a.pixels, rgb);
  // Partial alpha: the colour is kept, alpha dropped (not blended).
  Bytes px = {255, 100, 7, 3, 200, 10, 20, 128};
  RgbImage b = decode(test::encode_webp_lossless(2, 1, px));
  EXPECT_EQ(b.pixels, (Bytes{255, 100, 7, 200, 10, 20}));
}

TEST(DecodeBmp, PaletteDirectAndBitfields) {
  // 24-bit bottom-up, 2x2: rows padded to 8 bytes.
  Bytes rows24 = {1, 2, 3, 4, 5, 6, 0, 0,   // bottom row: BGR
                  7, 8, 9, 10, 11, 12, 0, 0};
  RgbImage a = decode(test::encode_bmp(2, 2, 24, 0, {}, rows24));
  EXPECT_EQ(a.pixels, (Bytes{9, 8, 7, 12, 11, 10, 3, 2, 1, 6, 5, 4}));
  // Top-down (negative height).
  RgbImage td = decode(test::encode_bmp(2, -2, 24, 0, {}, rows24));
  EXPECT_EQ(td.pixels, (Bytes{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
  // 8-bit palette of 2 entries (BGRX); index 5 is past the table: grey.
  Bytes pal = {30, 20, 10, 0, 60, 50, 40, 0};
  Bytes rows8 = {1, 0, 5, 0};
  Bytes bmp8 = test::encode_bmp(3, 1, 8, 0, pal, rows8);
  test::put_le(bmp8, 46, 2, 4);  // colours used: 2 (else 256 entries are expected)
  RgbImage p = decode(bmp8);
  EXPECT_EQ(p.pixels, (Bytes{40, 50, 60, 10, 20, 30, 5, 5, 5}));
  // 16-bit 5-6-5 bit fields: v * 255 / max.
  Bytes masks = {0x00, 0xf8, 0, 0, 0xe0, 0x07, 0, 0, 0x1f, 0, 0, 0};
  const uint16_t px = (31 << 11) | (21 << 5) | 1;
  Bytes rows16 = {uint8_t(px & 0xff), uint8_t(px >> 8), 0, 0};
  RgbImage f = decode(test::encode_bmp(1, 1, 16, 3, masks, rows16));
  EXPECT_EQ(f.pixels, (Bytes{255, 85, 8}));
  // 1-bit.
  Bytes pal1 = {0, 0, 0, 0, 255, 255, 255, 0};
  RgbImage m = decode(test::encode_bmp(3, 1, 1, 0, pal1, {0b01000000, 0, 0, 0}));
  EXPECT_EQ(m.pixels, (Bytes{0, 0, 0, 255, 255, 255, 0, 0, 0}));
}

// --- hostile input -------------------------------------------------------------------

std::vector<Bytes> samples_of_every_format() {
  test::PngSpec s{.width = 24, .height = 20, .color_type = PNG_COLOR_TYPE_RGB};
  s.samples = gradient_rgb(24, 20);
  Bytes rgba;
  for (size_t i = 0; i < s.samples.size(); i += 3)
    append(rgba, {s.samples[i], s.samples[i + 1], s.samples[i + 2], 200});
  Bytes rows24;
  for (int y = 0; y < 20; ++y) {
    rows24.insert(rows24.end(), s.samples.begin() + y * 72, s.samples.begin() + (y + 1) * 72);
  }
  std::vector<GifColorType> colors(16);
  for (int i = 0; i < 16; ++i) colors[i] = {uint8_t(i * 16), uint8_t(255 - i), uint8_t(i)};
  Bytes idx(24 * 20);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<uint8_t>((i * 7) % 16);
  return {test::encode_png(s), test::encode_jpeg(24, 20, 3, s.samples),
          test::encode_webp_lossless(24, 20, rgba), test::encode_gif(24, 20, 0, 0, 24, 20, colors, idx),
          test::encode_bmp(24, 20, 24, 0, {}, rows24)};
}

TEST(DecodeHostile, EveryTruncationIsACleanError) {
  for (const Bytes& full : samples_of_every_format()) {
    const std::string name = image_format_name(detect_image_format(full));
    SCOPED_TRACE(name);
    ASSERT_NO_THROW(decode(full));
    const size_t step = std::max<size_t>(1, full.size() / 200);
    for (size_t n = 0; n < full.size() - 1; n += (n < 64 ? 1 : step)) {
      Bytes cut(full.begin(), full.begin() + n);
      try {
        decode(cut);
        // A few cuts after the last pixel byte are complete images (GIF trailer, BMP).
        EXPECT_TRUE(name == "gif" || name == "bmp" || name == "webp") << "cut at " << n;
      } catch (const Error& e) {
        EXPECT_TRUE(e.kind() == ErrorKind::kCorrupt || e.kind() == ErrorKind::kUnsupported)
            << "cut at " << n << ": " << e.what();
      }
    }
  }
}

TEST(DecodeHostile, CorruptBytesNeverCrash) {
  uint32_t rng = 12345;
  for (const Bytes& full : samples_of_every_format()) {
    for (int trial = 0; trial < 60; ++trial) {
      Bytes b = full;
      for (int k = 0; k < 4; ++k) {
        rng = rng * 1664525u + 1013904223u;
        const size_t at = 2 + (rng >> 8) % (b.size() - 2);  // keep the magic
        b[at] = static_cast<uint8_t>(rng >> 24);
      }
      try {
        RgbImage img = decode(b);
        EXPECT_EQ(img.pixels.size(), static_cast<size_t>(img.num_pixels()) * 3);
      } catch (const Error&) {
      }
    }
  }
}

TEST(DecodeHostile, MislabelledAndUnknownData) {
  // The content decides, not a name: PNG bytes decode as PNG whatever the file is called.
  const std::vector<Bytes> all = samples_of_every_format();
  EXPECT_EQ(detect_image_format(all[0]), ImageFormat::kPng);
  // JPEG magic followed by PNG data: a JPEG error.
  Bytes fake = {0xFF, 0xD8, 0xFF};
  fake.insert(fake.end(), all[0].begin(), all[0].end());
  expect_error([&] { decode(fake); }, ErrorKind::kCorrupt, "JPEG");
  expect_error([&] { decode(Bytes{'h', 'e', 'l', 'l', 'o'}); }, ErrorKind::kUnsupported,
               "not a recognised image format");
  expect_error([&] { decode(Bytes{}); }, ErrorKind::kCorrupt, "empty");
}

TEST(DecodeHostile, OversizedHeadersAreRefusedBeforeDecoding) {
  const std::vector<Bytes> all = samples_of_every_format();
  // PNG: IHDR rewritten to 30000x30000 with a valid CRC.
  Bytes png = all[0];
  test::put_le(png, 16, 0, 4);
  for (int i = 0; i < 4; ++i) png[16 + i] = png[20 + i] = "\x00\x00\x75\x30"[i];
  const uint32_t crc = test::crc32(png.data() + 12, 17);
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  expect_error([&] { decode(png); }, ErrorKind::kTooLarge, "30000x30000");
  // JPEG: SOF0 height/width patched to 60000.
  Bytes jpg = all[1];
  for (size_t i = 2; i + 9 < jpg.size(); ++i) {
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
      jpg[i + 5] = jpg[i + 7] = 0xEA;
      jpg[i + 6] = jpg[i + 8] = 0x60;
      break;
    }
  }
  expect_error([&] { decode(jpg); }, ErrorKind::kTooLarge, "60000x60000");
  // GIF: logical screen 65535x65535.
  Bytes gif = all[3];
  gif[6] = gif[7] = gif[8] = gif[9] = 0xff;
  expect_error([&] { decode(gif); }, ErrorKind::kTooLarge, "65535x65535");
  // BMP: 30000x30000 header.
  Bytes bmp = all[4];
  test::put_le(bmp, 18, 30000, 4);
  test::put_le(bmp, 22, 30000, 4);
  expect_error([&] { decode(bmp); }, ErrorKind::kTooLarge, "30000x30000");
  // WebP 24x20 with a tiny pixel limit.
  expect_error([&] { decode(all[2], DecodeLimits{.max_pixels = 100}); }, ErrorKind::kTooLarge,
               "24x20");
  // Encoded-size limit.
  expect_error([&] { decode(all[0], DecodeLimits{.max_encoded_bytes = 16}); },
               ErrorKind::kTooLarge, "encoded bytes");
}

TEST(DecodeHostile, ZeroSizedImagesAreCorrupt) {
  const std::vector<Bytes> all = samples_of_every_format();
  Bytes bmp = all[4];
  test::put_le(bmp, 18, 0, 4);
  expect_error([&] { decode(bmp); }, ErrorKind::kCorrupt, "empty size");
  Bytes png = all[0];
  test::put_le(png, 16, 0, 4);
  const uint32_t crc = test::crc32(png.data() + 12, 17);
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  expect_error([&] { decode(png); }, ErrorKind::kCorrupt, "PNG");
  Bytes gif = test::encode_gif(4, 4, 0, 0, 0, 0, {{0, 0, 0}, {1, 1, 1}}, {});
  expect_error([&] { decode(gif); }, ErrorKind::kCorrupt, "GIF");
}

TEST(DecodeFile, ReadsFilesAndReportsMissingOnes) {
  expect_error([] { decode_image_file("/nonexistent/img.png"); }, ErrorKind::kNotFound,
               "/nonexistent/img.png");
}

}  // namespace
}  // namespace kantu
