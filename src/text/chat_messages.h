// Parsing chat messages from JSON (OpenAI shape), shared by `kantu prompt` and the server.
//   [{"role": "system"|"user"|"assistant"|"tool",
//     "content": "text" | [{"type":"text","text":...}, {"type":"image","image":"PATH"},
//                          {"type":"image_url","image_url":{"url":"data:...|file://..."}},
//                          {"type":"video","video":["f1.png", ...]}, {"type":"image"}] | null,
//     "tool_calls": [{"function": {"name": ..., "arguments": "{...}" | {...}}}]}]
// Parsing uses ordered JSON so tool arguments and tool definitions keep their key order,
// as Python's json.dumps does in the template's tojson.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "text/chat.h"

namespace kantu::text {

using OrderedJson = nlohmann::ordered_json;

// Throws Error(kInvalidArgument) "<what>: messages[2].content[0]: ..." for malformed input.
std::vector<Message> parse_messages(const OrderedJson& messages, std::string_view what);

struct ChatRequest {
  std::vector<Message> messages;
  std::vector<std::string> tools;  // each rendered with python_tojson
};
// A file's text: either a list of messages, or {"messages": [...], "tools": [...]}.
// Bad JSON is kInvalidArgument naming `what`.
ChatRequest parse_chat_request(std::string_view json_text, std::string_view what);
std::vector<std::string> parse_tools(const OrderedJson& tools, std::string_view what);

// JSON text exactly as Python's json.dumps(x, ensure_ascii=False) writes it (", " and ": "
// separators, key order kept), which is what the HF chat-template `tojson` filter produces.
std::string python_tojson(const OrderedJson& value);

}  // namespace kantu::text
