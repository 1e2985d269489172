// Token positions of a prompt, by the position scheme of a family:
//   kSequential  position = index (+ the sequence's start) on every axis (Llama-style
//                models; visual tokens count like text)
//   kMrope       Qwen-VL's 3-D ids (transformers get_rope_index): text runs advance all
//                three axes together; the tokens of a visual item with merged grid
//                (T', H', W') at start P get (P + time(ti), P + r, P + c), and the next text
//                position is one past the item's largest position. time() is the family's
//                temporal rule (see TemporalRule).
// Either way, the pad tokens of visual items (runs of image/video token ids) are found
// and checked against the items' token counts.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "models/model.h"

namespace kantu::models::blocks {

enum class PositionKind { kSequential, kMrope };

enum class TemporalRule {
  kFramesAsImages,  // Qwen3-VL: each temporal patch is its own item with t = 1
  kFrameIndex,      // Qwen2-VL: time(ti) = ti
  kSeconds,         // Qwen2.5-VL: time(ti) = long(ti · int(second_per_grid_t) · tokens_per_second)
};

struct PositionRule {
  PositionKind kind = PositionKind::kSequential;
  int32_t image_token_id = -1;
  int32_t video_token_id = -1;
  int64_t merge_size = 1;  // patches per merged token side
  TemporalRule temporal = TemporalRule::kFrameIndex;
  double tokens_per_second = 1;  // kSeconds only
};

// One visual item of a prompt (an image or a video), in order of appearance.
struct VisualItem {
  GridTHW grid;                   // patch units
  int64_t tokens = 0;             // its pad tokens in the prompt
  double second_per_grid_t = 0;   // seconds per temporal patch (videos, kSeconds)
};

struct PositionIds {
  std::vector<int64_t> t, h, w;      // [n] each
  int64_t next_pos = 0;              // next text position after these ids
  std::vector<int64_t> visual_rows;  // prompt indexes of the visual pad tokens, in order
};

// Positions for `ids` appended after a sequence whose next text position is start_pos.
// Every run of pad tokens must hold exactly the tokens of the next item(s), and every
// item must be used, else Error(kInvalidArgument) naming the counts.
PositionIds compute_positions(const PositionRule& rule, std::span<const int32_t> ids,
                              const std::vector<VisualItem>& items, int64_t start_pos);

}  // namespace kantu::models::blocks
