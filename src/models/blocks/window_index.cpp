#include "models/blocks/window_index.h"

#include <algorithm>

#include "core/error.h"

namespace kantu::models::blocks {

WindowPlan window_plan(const std::vector<GridTHW>& grids, int64_t merge, int64_t window) {
  KANTU_CHECK(window > 0 && merge > 0, "window ", window, " merge ", merge);
  WindowPlan plan;
  const int64_t unit = merge * merge;
  int64_t base = 0;  // merged tokens of the earlier images
  int64_t row = 0;   // patch rows of the earlier windows
  for (const GridTHW& g : grids) {
    const int64_t gh = g.h / merge, gw = g.w / merge;
    // Padded up to whole windows; like the reference, a side that divides evenly still
    // gets one more (empty) window.
    const int64_t nwh = (gh + window - gh % window) / window;
    const int64_t nww = (gw + window - gw % window) / window;
    for (int64_t t = 0; t < g.t; ++t) {
      for (int64_t wy = 0; wy < nwh; ++wy) {
        for (int64_t wx = 0; wx < nww; ++wx) {
          int64_t count = 0;
          for (int64_t y = wy * window; y < std::min(gh, (wy + 1) * window); ++y) {
            for (int64_t x = wx * window; x < std::min(gw, (wx + 1) * window); ++x) {
              plan.window_index.push_back(base + (t * gh + y) * gw + x);
              ++count;
            }
          }
          plan.windows.emplace_back(row, count * unit);
          row += count * unit;
        }
      }
    }
    base += g.t * gh * gw;
  }
  return plan;
}

void permute_groups(std::vector<float>& data, const std::vector<int64_t>& index, int64_t unit,
                    int64_t width, bool inverse) {
  const int64_t group = unit * width;
  KANTU_CHECK(static_cast<int64_t>(data.size()) == static_cast<int64_t>(index.size()) * group,
              "permute_groups: ", data.size(), " values for ", index.size(), " groups of ", group);
  std::vector<float> out(data.size());
  for (size_t i = 0; i < index.size(); ++i) {
    const int64_t from = inverse ? static_cast<int64_t>(i) : index[i];
    const int64_t to = inverse ? index[i] : static_cast<int64_t>(i);
    std::copy_n(data.data() + from * group, group, out.data() + to * group);
  }
  data.swap(out);
}

}  // namespace kantu::models::blocks
