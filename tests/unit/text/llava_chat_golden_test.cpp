// LLaVA chat rendering and prompt ids against the reference goldens (transformers 4.57,
// LlavaProcessor / LlavaNextProcessor.apply_chat_template with the model's own
// chat_template.json; ids from the processor's tokenizer with add_special_tokens=True).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "support/testdata.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"

namespace kantu::text {
namespace {

struct LlavaCase {
  const char* model;
  const char* golden;
};

constexpr LlavaCase kLlavaModels[] = {
    {"models/llava15-tiny-a", "goldens/llava/chat_template_llava15.json"},
    {"models/llava-next-tiny-a", "goldens/llava/chat_template_llavanext.json"},
};

TEST(LlavaChatGolden, EveryCaseRendersAndTokenizesLikeTheReference) {
  for (const LlavaCase& m : kLlavaModels) {
    SCOPED_TRACE(m.model);
    const std::string dir = test::testdata(m.model);
    const Tokenizer tok = Tokenizer::load(dir);
    const auto format = load_chat_format(dir);
    EXPECT_EQ(format->name(), "llava");
    const OrderedJson g = OrderedJson::parse(read_file(test::testdata(m.golden)));
    ASSERT_GE(g.at("cases").size(), 5u);
    for (const auto& c : g.at("cases")) {
      SCOPED_TRACE(c.at("name").get<std::string>());
      const std::vector<Message> messages = parse_messages(c.at("messages"), "golden");
      ChatOptions options;
      const RenderedPrompt prompt = format->render(messages, options);
      EXPECT_EQ(prompt.text(), c.at("rendered").get<std::string>());
      const auto ids = c.at("ids").get<std::vector<int32_t>>();
      EXPECT_EQ(prompt_token_ids(tok, prompt), ids);
      // What the reference does: BOS, then the rendered text with added tokens parsed.
      std::vector<int32_t> whole = {*tok.bos_id()};
      const auto rest = tok.encode(prompt.text(), AddedTokenMode::kAll);
      whole.insert(whole.end(), rest.begin(), rest.end());
      EXPECT_EQ(whole, ids);
      std::vector<std::string> tokens;
      for (int32_t id : ids) tokens.push_back(tok.id_to_token(id));
      EXPECT_EQ(tokens, c.at("tokens").get<std::vector<std::string>>());
      options.add_generation_prompt = false;
      EXPECT_EQ(format->render(messages, options).text(),
                c.at("rendered_no_generation_prompt").get<std::string>());
    }
  }
}

TEST(LlavaChatGolden, ImageTokensExpandAndUserTextStaysText) {
  const std::string dir = test::testdata("models/llava-next-tiny-a");
  const Tokenizer tok = Tokenizer::load(dir);
  const auto format = load_chat_format(dir);
  const auto messages = parse_messages(
      OrderedJson::parse(R"([{"role": "user", "content": [{"type": "image"},
          {"type": "text", "text": "<image> and </s> <s> are text here"}]}])"),
      "test");
  const RenderedPrompt prompt = expand_vision_tokens(format->render(messages, {}), {{4}, {}});
  const std::vector<int32_t> ids = prompt_token_ids(tok, prompt);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 32000), 4);  // only the expanded image
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 1), 1);      // only the BOS
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 0);
  EXPECT_NE(tok.decode(ids, true).find("<image> and </s> <s> are text here"), std::string::npos);
}

// LLaVA-NeXT mistral (llava-hf/llava-v1.6-mistral-7b-hf) has no golden here; these are
// what its template renders, worked out statement by statement.
TEST(LlavaChatFormat, MistralTemplateRendersLikeItsJinja) {
  const std::string jinja =
      "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + "
      "message['content'][0]['text'] + '\\n<</SYS>>\\n\\n' }}{% elif message['role'] == 'user' %}"
      "{{ '[INST] ' }}{# Render all images first #}{% for content in message['content'] | "
      "selectattr('type', 'equalto', 'image') %}{{ '<image>\\n' }}{% endfor %}{# Render all text "
      "next #}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
      "{{ content['text'] }}{% endfor %}{{' [/INST]' }}{% elif message['role'] == 'assistant' %}"
      "{{ ' ' + message['content'][0]['text'] + '</s> '}}{% else %}{{ raise_exception('Only user "
      "and assistant roles are supported!') }}{% endif %}{% endfor %}";
  const auto format = make_llava_chat_format(jinja);
  ASSERT_NE(format, nullptr);
  EXPECT_EQ(format->name(), "llava-mistral");
  const auto messages = parse_messages(OrderedJson::parse(R"([
      {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
      {"role": "user", "content": [{"type": "text", "text": "What is"}, {"type": "image"},
                                   {"type": "text", "text": " this?"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]},
      {"role": "user", "content": "And the colour?"}])"),
                                       "test");
  const RenderedPrompt prompt = format->render(messages, {});
  EXPECT_EQ(prompt.text(),
            "<<SYS>>\nBe brief.\n<</SYS>>\n\n[INST] <image>\nWhat is this? [/INST] A cat.</s> "
            "[INST] And the colour? [/INST]");
  EXPECT_EQ(prompt.image_count, 1);
  // </s> is the end-of-sequence control token; user text "</s>" is not.
  size_t controls = 0;
  for (const PromptPiece& p : prompt.pieces) controls += p.control ? 1 : 0;
  EXPECT_EQ(controls, 2u);
  EXPECT_THROW(format->render(parse_messages(OrderedJson::parse(R"([{"role": "tool", "content": "x"}])"), "t"), {}),
               Error);
  // The first published template wrote '<\\s> ' (rendered "<\s> ", plain text).
  std::string old = jinja;
  old.replace(old.find("'</s> '"), 7, "'<\\\\s> '");
  const auto old_format = make_llava_chat_format(old);
  ASSERT_NE(old_format, nullptr);
  EXPECT_NE(old_format->render(messages, {}).text().find("A cat.<\\s> [INST]"), std::string::npos);
  EXPECT_EQ(make_llava_chat_format("{{ messages }}"), nullptr);
}

}  // namespace
}  // namespace kantu::text
