// `kantu serve -m model.gguf --mmproj mmproj.gguf`, in process: the GGUF pair of tiny-a
// answers a chat with an image exactly like the Hugging Face folder (greedy), and the same
// text model without its mmproj answers text but refuses an image with a 400 up front.
#include <gtest/gtest.h>

#include <httplib.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "core/json.h"
#include "core/base64.h"
#include "server/real_engine.h"
#include "support/gguf_pair.h"
#include "support/served_engine.h"
#include "support/testdata.h"

namespace kantu::server {
namespace {

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One server over one engine for the life of the object.
class Served {
 public:
  Served(const std::string& model, const std::string& mmproj) {
    RealEngineOptions eo;
    eo.threads = 2;
    eo.context_length = 256;
    eo.mmproj = mmproj;
    served_ = std::make_unique<test::ServedEngine>(model, eo);
  }
  httplib::Result chat(const Json& messages) {
    httplib::Client c("127.0.0.1", served_->port());
    c.set_read_timeout(60, 0);
    const Json body = {{"messages", messages}, {"max_tokens", 8}, {"temperature", 0}};
    return c.Post("/v1/chat/completions", body.dump(), "application/json");
  }

 private:
  std::unique_ptr<test::ServedEngine> served_;
};

Json image_message(const std::string& text) {
  const std::string png = file_bytes(test::testdata("images/img_256x256.png"));
  return Json::array(
      {{{"role", "user"},
        {"content", Json::array({{{"type", "image_url"},
                                  {"image_url", {{"url", "data:image/png;base64," + base64_encode(png)}}}},
                                 {{"type", "text"}, {"text", text}}})}}});
}

std::string answer(const httplib::Result& r) {
  EXPECT_TRUE(r);
  if (!r) return "";
  EXPECT_EQ(r->status, 200) << r->body;
  return parse_json(r->body, "response")["choices"][0]["message"]["content"].get<std::string>();
}

TEST(ServerGguf, PairAnswersLikeTheFolderAndTextOnlyRefusesImages) {
  const auto pair = test::write_gguf_pair(test::testdata("models/qwen3vl-tiny-a"),
                                          test::make_temp_dir("serve_gguf"), DType::kBF16);
  const Json messages = image_message("What is in the picture?");
  std::string from_folder, from_gguf;
  {
    Served folder(test::testdata("models/qwen3vl-tiny-a"), "");
    from_folder = answer(folder.chat(messages));
  }
  {
    Served gguf(pair.model, pair.mmproj);
    from_gguf = answer(gguf.chat(messages));
  }
  EXPECT_EQ(from_gguf, from_folder);
  EXPECT_FALSE(from_gguf.empty());

  Served text_only(pair.model, "");
  const Json text = Json::array({{{"role", "user"}, {"content", "Hello"}}});
  EXPECT_FALSE(answer(text_only.chat(text)).empty());
  const auto refused = text_only.chat(messages);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400) << refused->body;
  EXPECT_NE(refused->body.find("--mmproj"), std::string::npos) << refused->body;
}

}  // namespace
}  // namespace kantu::server
