// Chat rendering and prompt ids against the reference goldens (transformers 4.57,
// the processor's apply_chat_template with the model's own chat_template.json): Qwen3-VL,
// and the template Qwen2-VL and Qwen2.5-VL share (a default system prompt).
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/mapped_file.h"
#include "support/testdata.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"

namespace kantu::text {
namespace {

const Tokenizer& golden_chat_tok() {
  static const Tokenizer t = Tokenizer::load(test::testdata("models/qwen3vl-tiny-a"));
  return t;
}

OrderedJson chat_goldens(const std::string& family = "qwen3vl") {
  return OrderedJson::parse(read_file(test::testdata("goldens/" + family + "/chat_template.json")));
}

TEST(ChatGolden, ModelTemplatesAreRecognized) {
  for (const char* model : {"models/qwen3vl-tiny-a", "models/qwen3vl-tiny-c"}) {
    EXPECT_EQ(load_chat_format(test::testdata(model))->name(), "qwen3-vl");
  }
  for (const char* model : {"models/qwen25vl-tiny-a", "models/qwen2vl-tiny-a"}) {
    EXPECT_EQ(load_chat_format(test::testdata(model))->name(), "qwen2-vl");
  }
}

// One golden file: every case rendered (with and without the generation prompt, with
// vision ids) and tokenized by the model folder's own tokenizer.
void check_goldens(const std::string& family, const std::string& model) {
  const auto format = load_chat_format(test::testdata(model));
  const Tokenizer tok = Tokenizer::load(test::testdata(model));
  const OrderedJson g = chat_goldens(family);
  ASSERT_GE(g.at("cases").size(), 6u);
  for (const auto& c : g.at("cases")) {
    SCOPED_TRACE(family + ": " + c.at("name").get<std::string>());
    const std::vector<Message> messages = parse_messages(c.at("messages"), "golden");
    ChatOptions options;
    const RenderedPrompt prompt = format->render(messages, options);
    EXPECT_EQ(prompt.text(), c.at("rendered").get<std::string>());
    EXPECT_EQ(prompt_token_ids(tok, prompt), c.at("ids").get<std::vector<int32_t>>());
    EXPECT_EQ(tok.encode(prompt.text(), true), c.at("ids").get<std::vector<int32_t>>());
    options.add_generation_prompt = false;
    EXPECT_EQ(format->render(messages, options).text(),
              c.at("rendered_no_generation_prompt").get<std::string>());
    options.add_generation_prompt = true;
    options.add_vision_id = true;
    const RenderedPrompt with_ids = format->render(messages, options);
    EXPECT_EQ(with_ids.text(), c.at("rendered_add_vision_id").get<std::string>());
    EXPECT_EQ(prompt_token_ids(tok, with_ids), tok.encode(with_ids.text(), true));
  }
}

TEST(ChatGolden, Qwen25VLCasesRenderAndTokenizeLikeTheReference) {
  check_goldens("qwen25vl", "models/qwen25vl-tiny-a");
}
TEST(ChatGolden, Qwen2VLCasesRenderAndTokenizeLikeTheReference) {
  check_goldens("qwen2vl", "models/qwen2vl-tiny-a");
}

TEST(ChatGolden, EveryCaseRendersAndTokenizesLikeTheReference) {
  check_goldens("qwen3vl", "models/qwen3vl-tiny-c");
}

TEST(ChatGolden, ImagePadExpandsToTheGivenCounts) {
  const auto format = make_qwen3vl_chat_format();
  const OrderedJson g = chat_goldens();
  for (const auto& c : g.at("cases")) {
    const RenderedPrompt prompt = format->render(parse_messages(c.at("messages"), "golden"), {});
    std::vector<int32_t> expected;
    std::vector<int64_t> counts;
    for (int32_t id : c.at("ids").get<std::vector<int32_t>>()) {
      if (id == 151655) {
        const int64_t n = 3 + static_cast<int64_t>(counts.size()) * 2;  // 3, 5, ...
        counts.push_back(n);
        expected.insert(expected.end(), static_cast<size_t>(n), id);
      } else {
        expected.push_back(id);
      }
    }
    ASSERT_EQ(counts.size(), static_cast<size_t>(prompt.image_count));
    const RenderedPrompt expanded = expand_vision_tokens(prompt, {counts, {}});
    EXPECT_EQ(prompt_token_ids(golden_chat_tok(), expanded), expected);
  }
}

}  // namespace
}  // namespace kantu::text
