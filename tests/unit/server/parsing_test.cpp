// Request parsing and its building blocks: data: URLs, stop strings, the LRU cache.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/base64.h"
#include "server/chat_request.h"
#include "server/lru_cache.h"

namespace kantu::server {
namespace {

const std::string kPngMagic = std::string("\x89PNG\r\n\x1A\n", 8) + "rest";

ErrorKind kind_of(const std::string& body) {
  try {
    parse_chat_request(body, {});
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error for " << body;
  return ErrorKind::kInternal;
}

std::string png_data_url() { return "data:image/png;base64," + base64_encode(kPngMagic); }

TEST(ChatRequest, ParsesTextImagesAndParams) {
  std::string body = R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
    "max_tokens":7,"temperature":0,"top_p":0.5,"top_k":3,"seed":42,"stop":["a","bc"],
    "min_pixels":1000,"max_pixels":2000,
    "messages":[{"role":"system","content":"be brief"},
                {"role":"user","content":[{"type":"image_url","image_url":{"url":")" +
                     png_data_url() + R"("}},{"type":"text","text":"what?"}]}]})";
  ParsedChatRequest r = parse_chat_request(body, {});
  EXPECT_EQ(r.model, "m");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  ASSERT_EQ(r.chat.messages.size(), 2u);
  EXPECT_EQ(r.chat.messages[0].role, "system");
  ASSERT_EQ(r.chat.messages[1].parts.size(), 2u);
  EXPECT_EQ(r.chat.messages[1].parts[0].kind, ContentPart::Kind::kImage);
  EXPECT_EQ(r.chat.messages[1].parts[1].text, "what?");
  ASSERT_EQ(r.chat.images.size(), 1u);
  EXPECT_EQ(r.chat.images[0], kPngMagic);
  EXPECT_EQ(r.chat.params.max_tokens, 7);
  EXPECT_EQ(r.chat.params.sampling.temperature, 0.0f);
  EXPECT_EQ(r.chat.params.sampling.top_k, 3);
  EXPECT_EQ(r.chat.params.sampling.seed, 42u);
  EXPECT_EQ(r.chat.params.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(r.chat.params.min_pixels, 1000);
  EXPECT_EQ(r.chat.params.max_pixels, 2000);
}

TEST(ChatRequest, AcceptsStopStringAndMaxCompletionTokens) {
  ParsedChatRequest r = parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"}],"stop":"END","max_completion_tokens":3})", {});
  EXPECT_EQ(r.chat.params.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r.chat.params.max_tokens, 3);
  EXPECT_FALSE(r.stream);
}

// Fields left out (or null) stay empty: the engine fills them from the model's defaults.
TEST(ChatRequest, SamplingFieldsLeftOutStayEmpty) {
  const ParsedChatRequest r = parse_chat_request(
      R"({"messages":[{"role":"user","content":"hi"}],"temperature":null,"top_p":0.5})", {});
  const runtime::SamplingRequest& s = r.chat.params.sampling;
  EXPECT_FALSE(s.temperature.has_value());
  EXPECT_FALSE(s.top_k.has_value());
  EXPECT_EQ(s.top_p, 0.5f);
  EXPECT_FALSE(s.min_p.has_value());
  EXPECT_FALSE(s.repetition_penalty.has_value());
  EXPECT_FALSE(s.presence_penalty.has_value());
  EXPECT_EQ(s.seed, 0u);
}

TEST(ChatRequest, RejectsMalformedFields) {
  const std::string user = R"("messages":[{"role":"user","content":"hi"}])";
  EXPECT_EQ(kind_of("{not json"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("[1,2]"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{}"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[]})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[{"role":"robot","content":"x"}]})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[{"role":"user"}]})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[{"role":"user","content":5}]})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[{"role":"user","content":[{"type":"audio"}]}]})"),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(R"({"messages":[{"role":"user","content":[{"type":"text"}]}]})"),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"max_tokens":0})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"max_tokens":"5"})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"temperature":3})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"top_p":0})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"top_k":-1})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"stop":[""]})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"stop":5})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"n":2})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"stream":"yes"})"), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"min_pixels":5000,"max_pixels":10})"),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of("{" + user + R"(,"seed":1.5})"), ErrorKind::kInvalidArgument);
}

std::string with_image_url(const std::string& url) {
  return R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":")" +
         url + R"("}}]}]})";
}

TEST(ChatRequest, RejectsBadImages) {
  EXPECT_EQ(kind_of(with_image_url("data:image/png;base64,!!!")), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(with_image_url("data:image/png,raw")), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(with_image_url("data:image/png;base64,")), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(with_image_url("data:text/plain;base64," + base64_encode(kPngMagic))),
            ErrorKind::kUnsupported);
  EXPECT_EQ(kind_of(with_image_url("data:image/tiff;base64," + base64_encode("II*\0xxxx"))),
            ErrorKind::kUnsupported);
  EXPECT_EQ(kind_of(with_image_url("file:///etc/passwd")), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of(with_image_url("http://example.com/a.png")), ErrorKind::kInvalidArgument);
  ChatRequestLimits small;
  small.max_image_bytes = 4;
  EXPECT_THROW(
      {
        try {
          parse_chat_request(with_image_url(png_data_url()), small);
        } catch (const Error& e) {
          EXPECT_EQ(e.kind(), ErrorKind::kTooLarge);
          throw;
        }
      },
      Error);
}

TEST(ChatRequest, ErrorsNameTheField) {
  try {
    parse_chat_request(R"({"messages":[{"role":"user","content":[{"type":"text","text":1}]}]})", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("messages[0].content[0].text"), std::string::npos) << e.what();
  }
}

TEST(LruCache, EvictsLeastRecentlyUsedByBytes) {
  LruCache<int> cache(100);
  cache.put("a", std::make_shared<const int>(1), 40);
  cache.put("b", std::make_shared<const int>(2), 40);
  ASSERT_TRUE(cache.get("a"));  // a is now the most recent
  cache.put("c", std::make_shared<const int>(3), 40);
  EXPECT_TRUE(cache.get("a"));
  EXPECT_FALSE(cache.get("b"));
  EXPECT_EQ(*cache.get("c"), 3);
  EXPECT_EQ(cache.bytes_used(), 80u);
  cache.put("huge", std::make_shared<const int>(4), 1000);  // larger than the cache
  EXPECT_FALSE(cache.get("huge"));
  cache.put("a", std::make_shared<const int>(5), 10);  // replace
  EXPECT_EQ(*cache.get("a"), 5);
  EXPECT_EQ(cache.bytes_used(), 50u);
}

TEST(ContentHash, DiffersForDifferentBytes) {
  EXPECT_EQ(content_hash("abc"), content_hash("abc"));
  EXPECT_NE(content_hash("abc"), content_hash("abd"));
  EXPECT_NE(content_hash(""), content_hash(std::string(1, '\0')));
}

}  // namespace
}  // namespace kantu::server
