#include "runtime/cached_prefill.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::runtime {

CachedPrefill::CachedPrefill(models::Model& model, PrefixCache* cache, std::string model_key,
                             std::vector<int32_t> ids, std::vector<PrefillImage> images,
                             models::Sequence& seq)
    : model_(model),
      cache_(cache != nullptr && cache->budget() > 0 ? cache : nullptr),
      model_key_(std::move(model_key)),
      ids_(std::move(ids)),
      images_(std::move(images)),
      seq_(seq) {
  if (ids_.empty()) fail(ErrorKind::kInvalidArgument, "prefill: no tokens");
  if (seq_.length() != 0) fail(ErrorKind::kInvalidArgument, "prefill: the sequence is not empty");
  // Where each image's tokens end (the pads, in order, each image its count of them;
  // layout_prompt checks the counts).
  const int32_t pad = model_.image_token_id();
  image_end_.assign(images_.size(), 0);
  size_t image = 0;
  int64_t in_image = 0;
  for (int64_t i = 0; i < prompt_tokens(); ++i) {
    if (ids_[i] != pad) continue;
    while (image < images_.size() && in_image >= images_[image].tokens) {
      ++image;
      in_image = 0;
    }
    if (image == images_.size()) break;
    image_end_[image] = i + 1;
    ++in_image;
  }
  for (const PrefillImage& img : images_) {
    visuals_.push_back({img.grid, img.tokens, img.second_per_grid_t, nullptr, 0});
  }
  if (cache_ == nullptr) return;
  std::vector<ImageTokens> image_tokens;
  for (const PrefillImage& img : images_) image_tokens.push_back({img.key, img.tokens});
  keys_ = prompt_token_keys(ids_, pad, image_tokens);
  // The last token is always prefilled: its logits give the first generated token.
  PrefixCache::Match match = cache_->lookup(model_key_, keys_, prompt_tokens() - 1);
  if (match.tokens > 0) {
    model_.attach_kv(seq_, match.blocks, match.tokens);
    cached_ = match.tokens;
  }
  next_ = cached_;
}

bool CachedPrefill::needs_vision(size_t image) const {
  KANTU_CHECK(image < images_.size(), "image ", image, " of ", images_.size());
  return image_end_[image] > cached_;
}

void CachedPrefill::set_vision(size_t image, const models::VisionOutput* vision, int64_t first_row) {
  KANTU_CHECK(image < images_.size() && !layout_, "set_vision: image ", image, " of ",
              images_.size(), layout_ ? " after the prefill started" : "");
  visuals_[image].vision = vision;
  visuals_[image].first_row = first_row;
}

bool CachedPrefill::step(int64_t max_tokens, const models::PrefillOptions& options) {
  if (done()) return true;
  // From token 0, so that the positions after cached images are theirs exactly.
  if (!layout_) layout_ = model_.layout_prompt(ids_, visuals_, nullptr);
  const int64_t end = max_tokens > 0 ? std::min(prompt_tokens(), next_ + max_tokens) : prompt_tokens();
  model_.prefill_chunk(seq_, *layout_, next_, end, options);
  next_ = end;
  return done();
}

void CachedPrefill::remember(std::span<const int32_t> generated) {
  if (cache_ == nullptr) return;
  const auto held = static_cast<size_t>(seq_.length());
  std::vector<TokenKey> keys(keys_.begin(), keys_.begin() + static_cast<ptrdiff_t>(std::min(held, keys_.size())));
  for (int32_t token : generated) {
    if (keys.size() >= held) break;
    keys.push_back(static_cast<uint32_t>(token));
  }
  cache_->insert(model_key_, keys, model_.kv_block_tokens(), model_.kv_block_bytes(),
                 [&](int64_t b) { return model_.share_kv_block(seq_, b); });
}

}  // namespace kantu::runtime
