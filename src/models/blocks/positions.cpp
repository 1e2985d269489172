#include "models/blocks/positions.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace kantu::models::blocks {
namespace {

// Qwen3-VL positions each temporal patch of a video like an image of its own.
std::vector<VisualItem> split_frames(const std::vector<VisualItem>& items) {
  std::vector<VisualItem> out;
  for (const VisualItem& item : items) {
    const int64_t per_frame = item.tokens / item.grid.t;
    for (int64_t i = 0; i < item.grid.t; ++i) {
      out.push_back({{1, item.grid.h, item.grid.w}, per_frame, item.second_per_grid_t});
    }
  }
  return out;
}

int64_t temporal_position(const PositionRule& rule, const VisualItem& item, int64_t ti) {
  if (rule.temporal != TemporalRule::kSeconds) return ti;
  // transformers casts second_per_grid_t to the int64 dtype of the index range first.
  const auto seconds = static_cast<int64_t>(item.second_per_grid_t);
  return static_cast<int64_t>(static_cast<double>(ti * seconds) * rule.tokens_per_second);
}

}  // namespace

PositionIds compute_positions(const PositionRule& rule, std::span<const int32_t> ids,
                              const std::vector<VisualItem>& items_in, int64_t start_pos) {
  const int64_t m = rule.merge_size;
  for (const VisualItem& item : items_in) {
    const GridTHW& g = item.grid;
    if (rule.kind == PositionKind::kMrope &&
        (g.t <= 0 || g.h <= 0 || g.w <= 0 || g.h % m != 0 || g.w % m != 0 ||
         item.tokens != g.patches() / (m * m))) {
      fail(ErrorKind::kInvalidArgument, "visual grid (", g.t, ", ", g.h, ", ", g.w,
           ") must be positive with h and w divisible by the merge size ", m);
    }
    if (item.tokens <= 0) fail(ErrorKind::kInvalidArgument, "a visual item without tokens");
  }
  const std::vector<VisualItem> items =
      rule.kind == PositionKind::kMrope && rule.temporal == TemporalRule::kFramesAsImages
          ? split_frames(items_in)
          : items_in;

  const int64_t n = static_cast<int64_t>(ids.size());
  PositionIds out;
  out.t.resize(n);
  out.h.resize(n);
  out.w.resize(n);
  int64_t pos = start_pos;
  size_t item = 0;
  auto is_pad = [&](int32_t id) { return id == rule.image_token_id || id == rule.video_token_id; };
  int64_t i = 0;
  while (i < n) {
    if (!is_pad(ids[i])) {
      out.t[i] = out.h[i] = out.w[i] = pos++;
      ++i;
      continue;
    }
    int64_t run = 0;
    while (i + run < n && is_pad(ids[i + run])) ++run;
    // A run may hold several consecutive items (pads of adjacent images with no text between).
    int64_t done = 0;
    while (done < run) {
      if (item >= items.size()) {
        fail(ErrorKind::kInvalidArgument, "the prompt has more image/video pad tokens than the ",
             items.size(), " visual items given (", items_in.size(), " images/videos)");
      }
      const VisualItem& it = items[item++];
      if (done + it.tokens > run) {
        fail(ErrorKind::kInvalidArgument, "visual item ", item - 1, " needs ", it.tokens,
             " consecutive pad tokens but the prompt has a run of ", run - done, " at token ",
             i + done);
      }
      const int64_t first = i + done;
      for (int64_t k = 0; k < it.tokens; ++k) out.visual_rows.push_back(first + k);
      if (rule.kind == PositionKind::kSequential) {
        for (int64_t k = 0; k < it.tokens; ++k) out.t[first + k] = out.h[first + k] = out.w[first + k] = pos++;
      } else {
        const int64_t gt = it.grid.t, gh = it.grid.h / m, gw = it.grid.w / m;
        int64_t largest = 0;
        for (int64_t ti = 0; ti < gt; ++ti) {
          const int64_t time = temporal_position(rule, it, ti);
          largest = std::max(largest, time);
          for (int64_t r = 0; r < gh; ++r) {
            for (int64_t c = 0; c < gw; ++c) {
              const int64_t k = first + (ti * gh + r) * gw + c;
              out.t[k] = pos + time;
              out.h[k] = pos + r;
              out.w[k] = pos + c;
            }
          }
        }
        pos += std::max({largest, gh - 1, gw - 1}) + 1;
      }
      done += it.tokens;
    }
    i += run;
  }
  if (item != items.size()) {
    fail(ErrorKind::kInvalidArgument, items.size(), " visual items were given but the prompt's ",
         "pad tokens cover only ", item);
  }
  out.next_pos = pos;
  return out;
}

}  // namespace kantu::models::blocks
