// libFuzzer target: the chat formats on arbitrary messages. The first byte picks a
// model (fuzz_models.h) and the options, the rest is a message file as `kantu prompt`
// and the server read it ([...] or {"messages": [...], "tools": [...]}). Parsing and
// rendering must give a prompt or a kantu::Error, and the prompt's ids must hold exactly
// the control tokens the template emitted (and the tokenizer's BOS): no text, however
// written, becomes one.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_models.h"
#include "text/chat_messages.h"
#include "text/prompt_tokens.h"

namespace {
std::vector<kantu::fuzz::TextModel> models;
}  // namespace

// Loading takes seconds: before the first input, so it does not count as a slow one.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  models = kantu::fuzz::load_text_models(true);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const kantu::fuzz::TextModel& model = models[(data[0] & 0x3F) % models.size()];
  kantu::text::ChatOptions options;
  options.add_generation_prompt = (data[0] & 0x40) == 0;
  options.add_vision_id = (data[0] & 0x80) != 0;
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    kantu::text::ChatRequest request = kantu::text::parse_chat_request(json, "fuzz");
    options.tools = request.tools;
    const kantu::text::RenderedPrompt prompt = model.chat->render(request.messages, options);
    const std::string whole = prompt.text();
    // The tokenizer's BOS (LLaMA's <s>) comes before the prompt: the one control token
    // no template piece names.
    const auto bos = model.tokenizer->bos_id();
    int64_t control = bos && model.tokenizer->is_special(*bos) ? 1 : 0;
    for (const kantu::text::PromptPiece& piece : prompt.pieces) {
      if (!piece.control) continue;
      const auto id = model.tokenizer->token_to_id(piece.text);
      if (!id) __builtin_trap();  // the template emitted a control token the tokenizer lacks
      if (model.tokenizer->is_special(*id)) control += piece.repeat;
    }
    const std::vector<int32_t> ids = kantu::text::prompt_token_ids(*model.tokenizer, prompt);
    int64_t special = 0;
    for (int32_t id : ids) {
      if (!model.tokenizer->is_valid(id)) __builtin_trap();
      special += model.tokenizer->is_special(id) ? 1 : 0;
    }
    if (special != control) __builtin_trap();  // text turned into a control token
  } catch (const kantu::Error&) {
  }
  return 0;
}
