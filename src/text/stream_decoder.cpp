#include "text/stream_decoder.h"

#include "text/utf8.h"

namespace kantu::text {

std::string StreamDecoder::push(int32_t id) {
  std::string out;
  // Checkpoints pad the output layer past the tokenizer (Qwen3-VL: 151936 rows, 151669
  // tokens); a sampled padding id has no text, as in HF's decode, which drops it.
  if (!tokenizer_->is_valid(id)) return out;
  const std::string_view piece = tokenizer_->piece(id);
  if (tokenizer_->is_added(id)) {
    if (skip_special_ && tokenizer_->is_special(id)) return out;
    // An added token ends the byte run, as in decode(): what is pending can no longer complete.
    append_utf8_lossy(pending_, out);
    pending_.clear();
    out.append(piece);
    return emit(std::move(out));
  }
  pending_.append(piece);
  const size_t ready = utf8_emittable_prefix(pending_);
  append_utf8_lossy(std::string_view(pending_).substr(0, ready), out);
  pending_.erase(0, ready);
  return emit(std::move(out));
}

std::string StreamDecoder::flush() {
  std::string out;
  append_utf8_lossy(pending_, out);
  pending_.clear();
  out = emit(std::move(out));
  at_start_ = true;
  return out;
}

std::string StreamDecoder::emit(std::string text) {
  if (at_start_ && !text.empty()) {
    if (tokenizer_->strips_leading_space() && text.front() == ' ') text.erase(0, 1);
    at_start_ = false;
  }
  return text;
}

}  // namespace kantu::text
