// From a rendered chat prompt to model input ids: expand the vision placeholders to the
// number of visual tokens each image/video takes (Qwen3-VL processor rules, architecture
// notes §2.1 and §2.2), then tokenize. Control pieces become their token ids directly;
// text runs are tokenized with AddedTokenMode::kNonSpecial, so message content can never
// produce a control token (<|im_start|>, <|image_pad|>, ...). For content without such
// strings the ids equal the reference's (it tokenizes the rendered text as a whole).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "text/chat.h"
#include "text/tokenizer.h"

namespace kantu::text {

struct VideoTokens {
  int64_t grid_t = 0, grid_h = 0, grid_w = 0;  // in patches, as video_grid_thw
  std::vector<double> timestamps;              // seconds, one per temporal patch (grid_t)
};

struct VisionTokenCounts {
  // Per image in prompt order, the number of <|image_pad|> tokens (grid_t*grid_h*grid_w/4).
  // Empty: every image keeps the single placeholder the template renders.
  std::vector<int64_t> image_tokens;
  // Per video in prompt order. Empty: every video keeps the template's placeholder.
  std::vector<VideoTokens> videos;
};

// The processor's timestamps: pad the sampled frame indices to a multiple of merge_size by
// repeating the last, t_i = index_i / fps, and average the first and last of each group.
std::vector<double> video_patch_timestamps(std::span<const int64_t> frame_indices, double fps,
                                           int merge_size = 2);

// Replaces each image's placeholder piece (<|image_pad|>, <image>) by image_tokens[i]
// copies and each video's
// <|vision_start|><|video_pad|><|vision_end|> by, per temporal patch k,
// "<{ts_k:.1f} seconds><|vision_start|>" + <|video_pad|> x (grid_h*grid_w/4) + "<|vision_end|>".
// Counts that do not match the prompt's images/videos are Error(kInvalidArgument).
RenderedPrompt expand_vision_tokens(const RenderedPrompt& prompt, const VisionTokenCounts& counts);

// Token ids of a (possibly expanded) prompt, after the tokenizer's BOS when it has one (as
// the reference processor tokenizes with add_special_tokens=True). Each text piece is
// tokenized on its own, as the reference does between the added tokens it splits on.
std::vector<int32_t> prompt_token_ids(const Tokenizer& tokenizer, const RenderedPrompt& prompt);

}  // namespace kantu::text
