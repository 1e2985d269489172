// libFuzzer target: the tokenizers on arbitrary bytes. The first byte picks a model's
// tokenizer (fuzz_models.h), the rest is the text. Invalid UTF-8 must be a kantu::Error;
// valid text must encode to known ids (no added token when they are not allowed) that
// decode back to it (its NFC form where the tokenizer normalizes so), whole and token by
// token (StreamDecoder); and the same
// bytes read as token ids must decode alike, whole and streamed.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_models.h"
#include "text/stream_decoder.h"
#include "text/utf8.h"

namespace {

using kantu::text::AddedTokenMode;

std::vector<kantu::fuzz::TextModel> models;

void check_round_trip(const kantu::text::Tokenizer& tok, std::string_view text, AddedTokenMode mode) {
  const std::vector<int32_t> ids = tok.encode(text, mode);
  for (int32_t id : ids) {
    if (!tok.is_valid(id)) __builtin_trap();
    if (mode == AddedTokenMode::kNone && tok.is_added(id)) __builtin_trap();
    if (mode == AddedTokenMode::kNonSpecial && tok.is_special(id)) __builtin_trap();
  }
  const std::string normalized = tok.normalizes_nfc() ? kantu::text::nfc(text) : std::string(text);
  // SentencePiece (LLaMA's legacy rule, as the reference) starts the text after an added
  // token with a new "▁": that text comes back with a space, so only the ids are checked.
  bool exact = true;
  for (int32_t id : ids) exact = exact && !(tok.strips_leading_space() && tok.is_added(id));
  if (!exact) return;
  if (tok.decode(ids) != normalized) __builtin_trap();
  kantu::text::StreamDecoder stream(tok);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  if (streamed != normalized) __builtin_trap();
}

}  // namespace

// Loading takes seconds: before the first input, so it does not count as a slow one.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  models = kantu::fuzz::load_text_models(false);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const kantu::text::Tokenizer& tok = *models[data[0] % models.size()].tokenizer;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  // The same bytes as token ids (two bytes each, a little past the vocabulary so unknown
  // ids come up): the decoder and the streaming decoder must agree on every sequence.
  std::vector<int32_t> ids;
  for (size_t i = 1; i + 1 < size; i += 2) {
    uint32_t v = (static_cast<uint32_t>(data[i]) << 8 | data[i + 1]) * 3u;
    int32_t id = static_cast<int32_t>(v % static_cast<uint32_t>(tok.vocab_size() + 64));
    if (tok.is_valid(id)) ids.push_back(id);
  }
  for (bool skip_special : {false, true}) {
    kantu::text::StreamDecoder stream(tok, skip_special);
    std::string streamed;
    for (int32_t id : ids) streamed += stream.push(id);
    streamed += stream.flush();
    if (streamed != tok.decode(ids, skip_special)) __builtin_trap();
  }
  try {
    kantu::text::check_utf8(text, "fuzz");
  } catch (const kantu::Error&) {
    try {
      tok.encode(text, AddedTokenMode::kAll);
      __builtin_trap();  // invalid UTF-8 was accepted
    } catch (const kantu::Error&) {
    }
    return 0;
  }
  check_round_trip(tok, text, AddedTokenMode::kNone);
  check_round_trip(tok, text, AddedTokenMode::kNonSpecial);
  check_round_trip(tok, text, AddedTokenMode::kAll);
  return 0;
}
