#include "text/chat_messages.h"

#include "core/error.h"
#include "core/json.h"
#include "core/mapped_file.h"
#include "formats/model_folder.h"
#include "text/utf8.h"

namespace kantu::text {

namespace {

[[noreturn]] void bad(std::string_view what, const std::string& where, const std::string& why) {
  fail(ErrorKind::kInvalidArgument, what, ": ", where, ": ", why);
}

const char* type_name(const OrderedJson& j) { return j.type_name(); }

ContentPart parse_part(const OrderedJson& j, std::string_view what, const std::string& where) {
  if (!j.is_object()) bad(what, where, cat("a content part must be an object, got ", type_name(j)));
  ContentPart part;
  std::string type;
  if (const auto t = j.find("type"); t != j.end()) {
    if (!t->is_string()) bad(what, where, "'type' must be a string");
    type = t->get<std::string>();
  }
  if (const auto t = j.find("text"); t != j.end()) {
    if (!t->is_string()) bad(what, where, "'text' must be a string");
    part.text = t->get<std::string>();
  }
  if (type == "image" || j.contains("image") || j.contains("image_url")) {
    part.kind = ContentPart::Kind::kImage;
    if (const auto img = j.find("image"); img != j.end() && !img->is_null()) {
      if (!img->is_string()) bad(what, where, "'image' must be a path or URL string");
      part.image = img->get<std::string>();
    } else if (const auto url = j.find("image_url"); url != j.end() && !url->is_null()) {
      if (url->is_string()) {
        part.image = url->get<std::string>();
      } else if (url->is_object() && url->contains("url") && (*url)["url"].is_string()) {
        part.image = (*url)["url"].get<std::string>();
      } else {
        bad(what, where, "'image_url' must be {\"url\": \"...\"}");
      }
    }
  } else if (type == "video" || j.contains("video")) {
    part.kind = ContentPart::Kind::kVideo;
    if (const auto v = j.find("video"); v != j.end() && !v->is_null()) {
      if (v->is_string()) {
        part.video_frames.push_back(v->get<std::string>());
      } else if (v->is_array()) {
        for (const auto& frame : *v) {
          if (!frame.is_string()) bad(what, where, "'video' frames must be path strings");
          part.video_frames.push_back(frame.get<std::string>());
        }
      } else {
        bad(what, where, "'video' must be a list of frame paths");
      }
    }
  } else if (part.text) {
    part.kind = ContentPart::Kind::kText;
  } else {
    // The template would silently drop such a part; a caller sending one made a mistake.
    bad(what, where,
        type.empty() ? std::string("a content part needs a 'type' (text, image, image_url, video)")
                     : cat("unsupported content part type '", type, "'"));
  }
  return part;
}

ToolCall parse_tool_call(const OrderedJson& j, std::string_view what, const std::string& where) {
  if (!j.is_object()) bad(what, where, "a tool call must be an object");
  const OrderedJson* call = &j;
  if (const auto f = j.find("function"); f != j.end() && !f->is_null() && !f->empty()) {
    if (!f->is_object()) bad(what, where, "'function' must be an object");
    call = &*f;
  }
  ToolCall tc;
  const auto name = call->find("name");
  if (name == call->end() || !name->is_string()) bad(what, where, "a tool call needs a string 'name'");
  tc.name = name->get<std::string>();
  const auto args = call->find("arguments");
  if (args == call->end() || args->is_null()) bad(what, where, "a tool call needs 'arguments'");
  tc.arguments = args->is_string() ? args->get<std::string>() : python_tojson(*args);
  return tc;
}

void append_python_json(const OrderedJson& v, std::string& out) {
  switch (v.type()) {
    case OrderedJson::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out.append(", ");
        first = false;
        append_python_json(item, out);
      }
      out.push_back(']');
      break;
    }
    case OrderedJson::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out.append(", ");
        first = false;
        out.append(OrderedJson(key).dump());
        out.append(": ");
        append_python_json(item, out);
      }
      out.push_back('}');
      break;
    }
    default:  // scalars: nlohmann writes strings, numbers and literals as Python does
      out.append(v.dump());
  }
}

}  // namespace

std::string python_tojson(const OrderedJson& value) {
  std::string out;
  append_python_json(value, out);
  return out;
}

std::vector<Message> parse_messages(const OrderedJson& messages, std::string_view what) {
  if (!messages.is_array()) bad(what, "messages", cat("must be a list, got ", type_name(messages)));
  if (messages.empty()) bad(what, "messages", "the list is empty");
  std::vector<Message> out;
  out.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const OrderedJson& j = messages[i];
    const std::string where = cat("messages[", i, "]");
    if (!j.is_object()) bad(what, where, cat("must be an object, got ", type_name(j)));
    Message m;
    const auto role = j.find("role");
    if (role == j.end() || !role->is_string()) bad(what, where, "needs a string 'role'");
    m.role = role->get<std::string>();
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool") {
      bad(what, where, cat("role '", m.role, "' is not one of system, user, assistant, tool"));
    }
    if (const auto content = j.find("content"); content != j.end() && !content->is_null()) {
      if (content->is_string()) {
        m.content_is_string = true;
        m.content_text = content->get<std::string>();
      } else if (content->is_array()) {
        for (size_t k = 0; k < content->size(); ++k) {
          m.parts.push_back(parse_part((*content)[k], what, cat(where, ".content[", k, "]")));
        }
      } else {
        bad(what, where, cat("'content' must be a string or a list of parts, got ",
                             type_name(*content)));
      }
    }
    if (const auto calls = j.find("tool_calls"); calls != j.end() && !calls->is_null()) {
      if (!calls->is_array()) bad(what, where, "'tool_calls' must be a list");
      if (m.role != "assistant" && !calls->empty()) bad(what, where, "only assistant messages have tool_calls");
      for (size_t k = 0; k < calls->size(); ++k) {
        m.tool_calls.push_back(parse_tool_call((*calls)[k], what, cat(where, ".tool_calls[", k, "]")));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> parse_tools(const OrderedJson& tools, std::string_view what) {
  if (tools.is_null()) return {};
  if (!tools.is_array()) bad(what, "tools", "must be a list");
  std::vector<std::string> out;
  for (const auto& tool : tools) out.push_back(python_tojson(tool));
  return out;
}

ChatRequest parse_chat_request(std::string_view json_text, std::string_view what) {
  check_utf8(json_text, what);
  OrderedJson doc;
  try {
    doc = OrderedJson::parse(json_text.begin(), json_text.end());
  } catch (const OrderedJson::exception& e) {
    fail(ErrorKind::kInvalidArgument, what, ": invalid JSON: ", e.what());
  }
  ChatRequest request;
  if (doc.is_object()) {
    if (!doc.contains("messages")) bad(what, "top level", "an object needs a 'messages' list");
    request.messages = parse_messages(doc["messages"], what);
    if (doc.contains("tools")) request.tools = parse_tools(doc["tools"], what);
  } else {
    request.messages = parse_messages(doc, what);
  }
  return request;
}

namespace {

constexpr const char* kSupportedTemplates =
    "Qwen3-VL, Qwen2-VL / Qwen2.5-VL, llava-hf LLaVA-1.5 / 1.6 vicuna / 1.6 mistral";

}  // namespace

std::unique_ptr<ChatFormat> chat_format_for_template(const std::string& jinja) {
  if (is_qwen3vl_chat_template(jinja)) return make_qwen3vl_chat_format();
  if (is_qwen2vl_chat_template(jinja)) return make_qwen2vl_chat_format();
  return make_llava_chat_format(jinja);
}

std::unique_ptr<ChatFormat> load_chat_format(const ModelFolder& model) {
  const GgufFile* f = model.gguf_model();
  if (!f) return load_chat_format(model.dir());
  if (!f->has("tokenizer.chat_template")) {
    fail(ErrorKind::kNotFound, f->path(), ": no chat template (tokenizer.chat_template)");
  }
  if (auto format = chat_format_for_template(f->string("tokenizer.chat_template"))) return format;
  fail(ErrorKind::kUnsupported, f->path(),
       ": tokenizer.chat_template is not one kantu renders (supported: ", kSupportedTemplates, ")");
}

std::unique_ptr<ChatFormat> load_chat_format(const std::string& model_dir) {
  std::string path = model_dir + "/chat_template.json";
  std::string tmpl;
  if (file_exists(path)) {
    const Json doc = read_json_file(path);
    if (!doc.is_object() || !doc.contains("chat_template") || !doc["chat_template"].is_string()) {
      fail(ErrorKind::kCorrupt, path, ": no string 'chat_template'");
    }
    tmpl = doc["chat_template"].get<std::string>();
  } else {
    path = model_dir + "/tokenizer_config.json";
    const Json doc = read_json_file(path);
    if (!doc.is_object() || !doc.contains("chat_template") || !doc["chat_template"].is_string()) {
      fail(ErrorKind::kNotFound, model_dir,
           ": no chat template (neither chat_template.json nor tokenizer_config.json's)");
    }
    tmpl = doc["chat_template"].get<std::string>();
  }
  if (auto format = chat_format_for_template(tmpl)) return format;
  fail(ErrorKind::kUnsupported, path,
       ": this chat template is not one kantu renders (supported: ", kSupportedTemplates, ")");
}

}  // namespace kantu::text
