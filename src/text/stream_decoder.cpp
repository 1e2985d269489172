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
    return out;
  }
  pending_.append(piece);
  const size_t ready = utf8_emittable_prefix(pending_);
  append_utf8_lossy(std::string_view(pending_).substr(0, ready), out);
  pending_.erase(0, ready);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  append_utf8_lossy(pending_, out);
  pending_.clear();
  return out;
}

}  // namespace kantu::text
