// How much of a new prompt the engine loop prefills in one turn (chunked prefill). While
// other streams are decoding, a chunk of the prompt, or of an image's vision encoder
// blocks, takes about twice a decode step, so a running stream waits about three steps
// between two tokens, however long the new prompt (unless one encoder block alone takes
// longer); with no stream decoding the prompt goes in one piece (fastest). The pace follows what the engine
// measures: the time of its batched decode passes and its prefill rate.
//
// Engine thread only, except the count of decoding streams (a sequence may be dropped
// elsewhere).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace kantu::server {

class PrefillPacer {
 public:
  // chunk_steps: a chunk's time in decode steps; 0 turns chunking off.
  explicit PrefillPacer(double chunk_steps = 2.0) : chunk_steps_(chunk_steps) {}

  void stream_started() { ++decoding_; }
  void stream_ended() { --decoding_; }
  void decode_pass(double ms) { step_ms_ = step_ms_ > 0 ? 0.7 * step_ms_ + 0.3 * ms : ms; }
  void prefilled(int64_t tokens, double ms) {
    if (tokens <= 0 || ms <= 0) return;
    const double rate = tokens / ms;
    tokens_per_ms_ = tokens_per_ms_ > 0 ? 0.5 * tokens_per_ms_ + 0.5 * rate : rate;
  }

  // Vision encoder blocks for the next piece of an image's encoding, from the time a
  // block took in its previous piece (0: none yet); at least 1.
  int64_t encode_blocks(double ms_per_block) const {
    if (ms_per_block <= 0 || step_ms_ <= 0) return 1;
    return std::max<int64_t>(1, static_cast<int64_t>(chunk_steps_ * step_ms_ / ms_per_block));
  }

  // Tokens for the next chunk; 0: all of the rest.
  int64_t chunk_tokens() const {
    if (chunk_steps_ <= 0 || decoding_.load() <= 0) return 0;
    if (step_ms_ <= 0 || tokens_per_ms_ <= 0) return kMinChunk;
    const double tokens = tokens_per_ms_ * chunk_steps_ * step_ms_;
    return std::max<int64_t>(kMinChunk, static_cast<int64_t>(tokens));
  }

 private:
  // Fewer rows than this waste the pass over the weights a chunk costs anyway.
  static constexpr int64_t kMinChunk = 16;
  const double chunk_steps_;
  std::atomic<int> decoding_{0};
  double step_ms_ = 0;
  double tokens_per_ms_ = 0;
};

}  // namespace kantu::server
