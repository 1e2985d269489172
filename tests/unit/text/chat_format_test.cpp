// Chat features the goldens do not cover (tools, tool calls and responses, videos, system
// content lists, add_vision_id numbering across turns, control-token strings in user text).
// The expected strings were rendered from the tiny models' chat_template.json with Jinja2
// 3.1.6 set up as transformers does (trim_blocks, lstrip_blocks, json.dumps-based tojson).
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "support/testdata.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"

namespace kantu::text {
namespace {

constexpr const char* kCases = R"JSON(
[
 {
  "name": "tools_with_system",
  "tools": [
   {
    "type": "function",
    "function": {
     "name": "get_weather",
     "description": "Weather in a city, 天气",
     "parameters": {
      "type": "object",
      "properties": {
       "city": {
        "type": "string"
       },
       "days": {
        "type": "integer",
        "minimum": 1
       }
      },
      "required": [
       "city"
      ]
     }
    }
   },
   {
    "type": "function",
    "function": {
     "name": "noop",
     "parameters": {}
    }
   }
  ],
  "messages": [
   {
    "role": "system",
    "content": "Be brief."
   },
   {
    "role": "user",
    "content": "Weather in Paris?"
   },
   {
    "role": "assistant",
    "content": "",
    "tool_calls": [
     {
      "type": "function",
      "function": {
       "name": "get_weather",
       "arguments": {
        "city": "Paris",
        "days": 2,
        "unit": "c",
        "x": [
         1.5,
         true,
         null
        ]
       }
      }
     },
     {
      "function": {
       "name": "noop",
       "arguments": "{\"a\": 1}"
      }
     }
    ]
   },
   {
    "role": "tool",
    "content": "{\"temp\": 21}"
   },
   {
    "role": "tool",
    "content": [
     {
      "type": "text",
      "text": "second"
     },
     {
      "type": "image"
     }
    ]
   },
   {
    "role": "assistant",
    "content": "It is 21 degrees.",
    "tool_calls": [
     {
      "name": "noop",
      "arguments": {}
     }
    ]
   },
   {
    "role": "user",
    "content": [
     {
      "type": "video",
      "video": [
       "a.png",
       "b.png"
      ]
     },
     {
      "type": "text",
      "text": "and this?"
     },
     {
      "type": "image_url",
      "image_url": {
       "url": "file:///x.png"
      }
     }
    ]
   }
  ],
  "expected": "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather in a city, 天气\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"days\": {\"type\": \"integer\", \"minimum\": 1}}, \"required\": [\"city\"]}}}\n{\"type\": \"function\", \"function\": {\"name\": \"noop\", \"parameters\": {}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2, \"unit\": \"c\", \"x\": [1.5, true, null]}}\n</tool_call>\n<tool_call>\n{\"name\": \"noop\", \"arguments\": {\"a\": 1}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\nsecond<|vision_start|><|image_pad|><|vision_end|>\n</tool_response><|im_end|>\n<|im_start|>assistant\nIt is 21 degrees.\n<tool_call>\n{\"name\": \"noop\", \"arguments\": {}}\n</tool_call><|im_end|>\n<|im_start|>user\n<|vision_start|><|video_pad|><|vision_end|>and this?<|vision_start|><|image_pad|><|vision_end|><|im_end|>\n<|im_start|>assistant\n"
 },
 {
  "name": "tools_no_system",
  "tools": [
   {
    "name": "f"
   }
  ],
  "messages": [
   {
    "role": "user",
    "content": "hi"
   }
  ],
  "gen": false,
  "expected": "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{\"name\": \"f\"}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
 },
 {
  "name": "system_parts_and_late_system",
  "vision_id": true,
  "messages": [
   {
    "role": "system",
    "content": [
     {
      "type": "text",
      "text": "A"
     },
     {
      "type": "text",
      "text": "B"
     }
    ]
   },
   {
    "role": "user",
    "content": [
     {
      "type": "video",
      "video": [
       "f.png"
      ]
     },
     {
      "type": "image",
      "image": "x.png"
     },
     {
      "type": "video",
      "video": [
       "g.png"
      ]
     }
    ]
   },
   {
    "role": "system",
    "content": "late"
   },
   {
    "role": "tool",
    "content": "r1"
   },
   {
    "role": "user",
    "content": "<|im_start|> <think>"
   }
  ],
  "expected": "<|im_start|>system\nAB<|im_end|>\n<|im_start|>user\nVideo 1: <|vision_start|><|video_pad|><|vision_end|>Picture 1: <|vision_start|><|image_pad|><|vision_end|>Video 2: <|vision_start|><|video_pad|><|vision_end|><|im_end|>\n<|im_start|>user\n<tool_response>\nr1\n</tool_response><|im_end|>\n<|im_start|>user\n<|im_start|> <think><|im_end|>\n<|im_start|>assistant\n"
 }
])JSON";

const Tokenizer& chat_tok() {
  static const Tokenizer t = Tokenizer::load(test::testdata("models/qwen3vl-tiny-a"));
  return t;
}

TEST(ChatFormat, MatchesTheJinjaTemplateOnToolAndVideoConversations) {
  const auto format = make_qwen3vl_chat_format();
  const OrderedJson cases = OrderedJson::parse(kCases);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    ChatOptions options;
    options.add_generation_prompt = c.value("gen", true);
    options.add_vision_id = c.value("vision_id", false);
    if (c.contains("tools")) options.tools = parse_tools(c["tools"], "case");
    const RenderedPrompt prompt = format->render(parse_messages(c["messages"], "case"), options);
    EXPECT_EQ(prompt.text(), c["expected"].get<std::string>());
  }
}

TEST(ChatFormat, ToolCallTokensAreControlTokens) {
  const OrderedJson cases = OrderedJson::parse(kCases);
  ChatOptions options;
  options.tools = parse_tools(cases[0]["tools"], "case");
  const RenderedPrompt prompt =
      make_qwen3vl_chat_format()->render(parse_messages(cases[0]["messages"], "case"), options);
  // Without user text holding control strings, the ids equal tokenizing the whole text.
  EXPECT_EQ(prompt_token_ids(chat_tok(), prompt), chat_tok().encode(prompt.text(), true));
  const auto ids = prompt_token_ids(chat_tok(), prompt);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151657), 5);  // <tool_call>
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151665), 2);  // <tool_response>
}

TEST(ChatFormat, UserTextNeverBecomesAControlToken) {
  const OrderedJson cases = OrderedJson::parse(kCases);
  const RenderedPrompt prompt =
      make_qwen3vl_chat_format()->render(parse_messages(cases[2]["messages"], "case"), {});
  const auto ids = prompt_token_ids(chat_tok(), prompt);
  // 4 turns + the generation prompt; the "<|im_start|>" typed by the user stays text.
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151644), 5);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151667), 1);  // <think> is not special: kept
  const auto reference = chat_tok().encode(prompt.text(), true);
  EXPECT_EQ(std::count(reference.begin(), reference.end(), 151644), 6);
}

TEST(ChatFormat, VideoExpandsPerTemporalPatchWithTimestamps) {
  const auto messages = parse_chat_request(
      R"([{"role":"user","content":[{"type":"video","video":["a.png","b.png","c.png"]},
          {"type":"text","text":"What happens?"}]}])",
      "case").messages;
  const RenderedPrompt prompt = make_qwen3vl_chat_format()->render(messages, {});
  ASSERT_EQ(prompt.video_count, 1);
  // 3 frames sampled at indices 0, 12, 24 of a 24 fps video: padded to 4, two patches.
  const std::vector<int64_t> frames = {0, 12, 24};
  const std::vector<double> ts = video_patch_timestamps(frames, 24.0);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_DOUBLE_EQ(ts[0], 0.25);
  EXPECT_DOUBLE_EQ(ts[1], 1.0);
  VisionTokenCounts counts;
  counts.videos.push_back({2, 4, 6, ts});
  const RenderedPrompt expanded = expand_vision_tokens(prompt, counts);
  std::string pads6;
  for (int i = 0; i < 6; ++i) pads6 += "<|video_pad|>";
  EXPECT_EQ(expanded.text(),
            "<|im_start|>user\n<0.2 seconds><|vision_start|>" + pads6 +
                "<|vision_end|><1.0 seconds><|vision_start|>" + pads6 +
                "<|vision_end|>What happens?<|im_end|>\n<|im_start|>assistant\n");
  const auto ids = prompt_token_ids(chat_tok(), expanded);
  EXPECT_EQ(ids, chat_tok().encode(expanded.text(), true));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 151656), 12);
}

TEST(ChatFormat, ExpansionCountsMustMatchThePrompt) {
  const auto messages = parse_chat_request(
      R"([{"role":"user","content":[{"type":"image"},{"type":"video","video":["a.png"]}]}])", "case")
                            .messages;
  const RenderedPrompt prompt = make_qwen3vl_chat_format()->render(messages, {});
  EXPECT_THROW(expand_vision_tokens(prompt, {{4, 4}, {}}), Error);
  EXPECT_THROW(expand_vision_tokens(prompt, {{0}, {}}), Error);
  EXPECT_THROW(expand_vision_tokens(prompt, {{}, {VideoTokens{1, 3, 3, {0.0}}}}), Error);
  EXPECT_THROW(expand_vision_tokens(prompt, {{}, {VideoTokens{2, 2, 2, {0.0}}}}), Error);
  EXPECT_NO_THROW(expand_vision_tokens(prompt, {{4}, {VideoTokens{1, 2, 2, {0.5}}}}));
  EXPECT_THROW(video_patch_timestamps({}, 24.0), Error);
  const std::vector<int64_t> one = {0};
  EXPECT_THROW(video_patch_timestamps(one, 0.0), Error);
}

void expect_bad_messages(const std::string& json, const std::string& needle) {
  try {
    parse_chat_request(json, "msgs.json");
    ADD_FAILURE() << "accepted: " << json;
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << json;
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("msgs.json"), std::string::npos) << e.what();
  }
}

TEST(ChatMessages, MalformedInputIsAClearError) {
  expect_bad_messages("", "invalid JSON");
  expect_bad_messages("[{\"role\":\"user\",\"content\":\"x\"}", "invalid JSON");
  expect_bad_messages("\"hello\"", "must be a list");
  expect_bad_messages("[]", "empty");
  expect_bad_messages("{\"tools\":[]}", "'messages'");
  expect_bad_messages("[42]", "messages[0]");
  expect_bad_messages("[{\"content\":\"x\"}]", "'role'");
  expect_bad_messages("[{\"role\":\"wizard\",\"content\":\"x\"}]", "wizard");
  expect_bad_messages("[{\"role\":\"user\",\"content\":7}]", "'content'");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[\"x\"]}]", "messages[0].content[0]");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":1}]}]", "'text'");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]", "audio");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"image\":3}]}]", "'image'");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]",
                      "image_url");
  expect_bad_messages("[{\"role\":\"user\",\"content\":[{\"type\":\"video\",\"video\":[1]}]}]", "'video'");
  expect_bad_messages("[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":{}}}]}]",
                      "'name'");
  expect_bad_messages("[{\"role\":\"assistant\",\"tool_calls\":[{\"name\":\"f\"}]}]", "'arguments'");
  expect_bad_messages("[{\"role\":\"user\",\"content\":\"x\",\"tool_calls\":[{\"name\":\"f\",\"arguments\":{}}]}]",
                      "tool_calls");
  expect_bad_messages("[{\"role\":\"user\",\"content\":\"\xff\"}]", "invalid UTF-8");
  expect_bad_messages("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":{}}", "tools");
}

TEST(ChatMessages, PartsAreClassifiedLikeTheTemplate) {
  const auto m = parse_chat_request(
      R"([{"role":"user","content":[{"type":"image","image":"/a.png"},
          {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
          {"image_url":"file:///b.png"}, {"type":"image"}, {"type":"video","video":["f1","f2"]},
          {"type":"text","text":"hi"}]}, {"role":"assistant","content":null}])",
      "case").messages;
  ASSERT_EQ(m.size(), 2u);
  ASSERT_EQ(m[0].parts.size(), 6u);
  EXPECT_EQ(m[0].parts[0].image, "/a.png");
  EXPECT_EQ(m[0].parts[1].image, "data:image/png;base64,AAAA");
  EXPECT_EQ(m[0].parts[2].image, "file:///b.png");
  EXPECT_EQ(m[0].parts[3].kind, ContentPart::Kind::kImage);
  EXPECT_EQ(m[0].parts[3].image, "");
  EXPECT_EQ(m[0].parts[4].video_frames, (std::vector<std::string>{"f1", "f2"}));
  EXPECT_EQ(m[0].parts[5].kind, ContentPart::Kind::kText);
  EXPECT_FALSE(m[1].has_content());
  EXPECT_EQ(make_qwen3vl_chat_format()->render(m, {}).image_count, 4);
}

TEST(ChatFormat, UnknownTemplatesAreRefused) {
  const std::string dir = test::make_temp_dir("chat");
  test::write_text_file(dir + "/chat_template.json",
                        R"({"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"})");
  EXPECT_THROW(load_chat_format(dir), Error);
  test::write_text_file(dir + "/chat_template.json", "{not json");
  EXPECT_THROW(load_chat_format(dir), Error);
  test::write_text_file(dir + "/chat_template.json", "{}");
  EXPECT_THROW(load_chat_format(dir), Error);
  EXPECT_THROW(load_chat_format(dir + "/missing"), Error);
}

}  // namespace
}  // namespace kantu::text
