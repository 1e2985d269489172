// Base64 and data: URLs (core/base64.h): round trips, the variants clients send, and
// every malformed input giving an error rather than bytes.
#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/error.h"

namespace kantu {
namespace {

TEST(Base64, RoundTripsAllLengths) {
  std::string bytes;
  for (int n = 0; n < 20; ++n) {
    EXPECT_EQ(base64_decode(base64_encode(bytes), "t"), bytes);
    bytes.push_back(static_cast<char>(n * 37 + 200));
  }
  EXPECT_EQ(base64_encode("Man"), "TWFu");
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("M"), "TQ==");
  EXPECT_EQ(base64_decode("TW\nE=", "t"), "Ma");
  EXPECT_EQ(base64_decode("TWE", "t"), "Ma");         // padding is optional
  EXPECT_EQ(base64_decode("-_-_", "t"), "\xFB\xFF\xBF");  // URL-safe alphabet
}

TEST(Base64, RejectsGarbage) {
  EXPECT_THROW(base64_decode("TW*u", "t"), Error);
  EXPECT_THROW(base64_decode("TWFuT", "t"), Error);   // dangling character
  EXPECT_THROW(base64_decode("TW=Fu", "t"), Error);   // data after padding
  EXPECT_THROW(base64_decode(std::string("TW\0u", 4), "t"), Error);
  try {
    base64_decode("TW*u", "image 2");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("image 2"), std::string::npos) << e.what();
  }
}

TEST(DataUrl, ParsesTypeAndPayload) {
  DataUrl d = parse_data_url("data:image/png;base64,TWFu", "u");
  EXPECT_EQ(d.media_type, "image/png");
  EXPECT_EQ(d.bytes, "Man");
  d = parse_data_url("data:;base64,TWE=", "u");
  EXPECT_EQ(d.media_type, "");
  EXPECT_EQ(d.bytes, "Ma");
  d = parse_data_url("data:image/jpeg;name=a.jpg;base64,TQ==", "u");
  EXPECT_EQ(d.media_type, "image/jpeg");
  EXPECT_EQ(d.bytes, "M");
}

TEST(DataUrl, RejectsWhatIsNotABase64DataUrl) {
  for (const char* bad : {"", "data:", "data:image/png;base64", "image/png;base64,TWFu",
                          "data:image/png,TWFu", "data:image/png;base64x,TWFu",
                          "data:text/plain;charset=utf-8,hello", "data:image/png;base64,T"}) {
    EXPECT_THROW(parse_data_url(bad, "u"), Error) << bad;
  }
}

}  // namespace
}  // namespace kantu
