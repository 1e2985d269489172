// One prompt's prefill through the prefix cache (runtime/prefix_cache.h), in pieces: the
// longest cached prefix is attached to the (empty) sequence, only the images with tokens
// after it need their vision rows, the rest of the prompt is prefilled chunk by chunk
// (the server interleaves the chunks with other streams' decode steps), and the blocks
// the sequence then holds are stored for later prompts. The one path from a prompt to a
// first token for Engine::generate (run, bench, eval, chat) and the server's sequences.
//
// Positions carry over exactly: the prompt is laid out from token 0 with every image's
// grid (the 3-D M-RoPE positions and rope_delta of the text after an image depend on it),
// and prefilled from the first token the cache did not hold.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "models/model.h"
#include "runtime/prefix_cache.h"

namespace kantu::runtime {

// One image of the prompt, as the cache and the positions see it (no pixels).
struct PrefillImage {
  std::string key;  // image_cache_key: content hash + preprocessing budget
  models::GridTHW grid;
  int64_t tokens = 0;
  double second_per_grid_t = 0;
};

class CachedPrefill {
 public:
  // `seq` is empty with room for the prompt; the object must not outlive it. `cache` may
  // be null (nothing reused, nothing stored). Looks the prompt up and attaches what the
  // cache holds (always leaving the last token to prefill, for its logits).
  CachedPrefill(models::Model& model, PrefixCache* cache, std::string model_key,
                std::vector<int32_t> ids, std::vector<PrefillImage> images, models::Sequence& seq);

  int64_t prompt_tokens() const { return static_cast<int64_t>(ids_.size()); }
  int64_t cached_tokens() const { return cached_; }
  int64_t remaining() const { return prompt_tokens() - next_; }
  bool done() const { return next_ == prompt_tokens(); }

  // True when some of image i's tokens are after the cached prefix: it needs its rows.
  bool needs_vision(size_t image) const;
  // Image i's rows: `vision` holds them from first_row on (it must outlive the prefill).
  void set_vision(size_t image, const models::VisionOutput* vision, int64_t first_row = 0);

  // Prefills up to `max_tokens` more tokens of the prompt (<= 0: all the rest). Returns
  // true once the prompt is done: seq.logits() then hold its last token's logits.
  bool step(int64_t max_tokens = 0, const models::PrefillOptions& options = {});

  // Stores the blocks the sequence holds now in the cache: the prompt's tokens, then
  // `generated` (the tokens appended after it, in order).
  void remember(std::span<const int32_t> generated = {});

 private:
  models::Model& model_;
  PrefixCache* cache_;
  std::string model_key_;
  std::vector<int32_t> ids_;
  std::vector<PrefillImage> images_;
  std::vector<models::PromptVisual> visuals_;
  std::vector<int64_t> image_end_;  // per image: the prompt index after its last token
  std::vector<TokenKey> keys_;
  models::Sequence& seq_;
  std::optional<models::PromptLayout> layout_;
  int64_t cached_ = 0;
  int64_t next_ = 0;  // first prompt token not prefilled
};

}  // namespace kantu::runtime
