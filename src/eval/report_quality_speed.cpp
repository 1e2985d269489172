// Quality against speed: CIDEr-D (x100) on the y axis, mean latency per image on the x
// axis, one bubble per run whose area is proportional to its peak memory. An endpoint's
// memory is unknown: its bubble is a dashed ring of a fixed size.
#include <algorithm>
#include <cmath>

#include "eval/report_html_parts.h"

namespace kantu::eval::html {
namespace {

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `ticks` intervals.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (raw <= m * power) return m * power;
  }
  return 10 * power;
}

struct Point {
  size_t run;
  double latency_ms, cider, memory_mb;  // memory < 0: unknown
};

// A placed name: its horizontal extent and baseline (12-px text, about 14 px a line).
struct LabelBox {
  double x0, x1, y;
};

constexpr double kLabelLine = 14;

// The baseline nearest `want`, within [lowest_y, highest_y], whose line overlaps no placed
// name: tries want, want - 14, want + 14, want - 28, ... and falls back to want.
double free_label_row(const std::vector<LabelBox>& placed, double x0, double x1, double want, double lowest_y,
                      double highest_y) {
  const auto clashes = [&](double y) {
    return std::any_of(placed.begin(), placed.end(), [&](const LabelBox& b) {
      return x0 < b.x1 && b.x0 < x1 && std::abs(y - b.y) < kLabelLine;
    });
  };
  for (int step = 0; step < 40; ++step) {
    const double y = want + (step % 2 ? -1 : 1) * kLabelLine * ((step + 1) / 2);
    if (y < lowest_y || y > highest_y) continue;
    if (!clashes(y)) return y;
  }
  return want;
}

}  // namespace

std::string quality_speed_chart(const std::vector<RunStats>& runs) {
  std::vector<Point> points;
  std::vector<std::string> left_out;
  double max_latency = 0, max_cider = 0, max_memory = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunStats& r = runs[i];
    const bool has_cider = r.scores.contains("CIDEr") && r.scores.at("CIDEr").is_number();
    if (r.mean_ms < 0 || !has_cider) {
      left_out.push_back(r.model);
      continue;
    }
    const double memory = r.peak_memory_mb.is_number() ? r.peak_memory_mb.get<double>() : -1;
    points.push_back({i, r.mean_ms, r.scores.at("CIDEr").get<double>() * 100, memory});
    max_latency = std::max(max_latency, r.mean_ms);
    max_cider = std::max(max_cider, points.back().cider);
    max_memory = std::max(max_memory, memory);
  }
  if (points.empty()) return "<p>No run has both a CIDEr score and latency figures.</p>";
  const double width = 720, height = 360, left = 60, right = 30, top = 20, bottom = 50;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const double x_step = nice_step(std::max(max_latency, 1.0) * 1.15, 5);
  const double y_step = nice_step(std::max(max_cider, 1.0) * 1.15, 5);
  const double x_max = x_step * std::ceil(std::max(max_latency, 1.0) * 1.15 / x_step);
  const double y_max = y_step * std::ceil(std::max(max_cider, 1.0) * 1.15 / y_step);
  const auto px = [&](double v) { return left + plot_w * v / x_max; };
  const auto py = [&](double v) { return top + plot_h * (1 - v / y_max); };

  std::string svg = "<svg id=\"quality-speed\" viewBox=\"0 0 " + num(width, 0) + " " + num(height, 0) +
                    "\" width=\"" + num(width, 0) + "\" role=\"img\" aria-label=\"CIDEr against mean latency\">";
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(plot_w) + "\" height=\"" +
         num(plot_h) + "\" fill=\"none\" stroke=\"#888\"/>";
  for (double v = 0; v <= x_max + 1e-9; v += x_step) {
    svg += "<line x1=\"" + num(px(v)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(v)) + "\" y2=\"" +
           num(top + plot_h) + "\" stroke=\"#eee\"/>";
    svg += "<text class=\"tick\" x=\"" + num(px(v)) + "\" y=\"" + num(top + plot_h + 16) +
           "\" font-size=\"11\" text-anchor=\"middle\">" + num(v, x_step < 1 ? 1 : 0) + "</text>";
  }
  for (double v = 0; v <= y_max + 1e-9; v += y_step) {
    svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(py(v)) + "\" x2=\"" + num(left + plot_w) + "\" y2=\"" +
           num(py(v)) + "\" stroke=\"#eee\"/>";
    svg += "<text class=\"tick\" x=\"" + num(left - 6) + "\" y=\"" + num(py(v) + 4) +
           "\" font-size=\"11\" text-anchor=\"end\">" + num(v, y_step < 1 ? 1 : 0) + "</text>";
  }
  svg += "<text x=\"" + num(left + plot_w / 2) + "\" y=\"" + num(height - 8) +
         "\" font-size=\"12\" text-anchor=\"middle\">mean latency per image (ms)</text>";
  svg += "<text x=\"14\" y=\"" + num(top + plot_h / 2) + "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
         num(top + plot_h / 2) + ")\">CIDEr (x100)</text>";
  // Largest bubbles first, so smaller ones stay visible on top; the names go over all bubbles.
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.memory_mb > b.memory_mb; });
  std::string labels;
  std::vector<LabelBox> placed;
  for (const Point& p : points) {
    const RunStats& r = runs[p.run];
    const double cx = px(p.latency_ms), cy = py(p.cider);
    const bool known = p.memory_mb >= 0 && max_memory > 0;
    const double radius = known ? 6 + 30 * std::sqrt(p.memory_mb / max_memory) : 8;
    const std::string title = r.model + ": CIDEr " + num(p.cider) + ", " + num(p.latency_ms, 0) + " ms, " +
                              (known ? num(p.memory_mb, 0) + " MiB" : std::string("memory unknown"));
    svg += "<circle class=\"bubble\" cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(radius) +
           "\" fill=\"" + (known ? std::string(color(p.run)) : "none") + "\" fill-opacity=\"0.55\" stroke=\"" +
           color(p.run) + "\" stroke-width=\"2\"" + (known ? "" : " stroke-dasharray=\"4 3\"") + "><title>" +
           escape(title) + "</title></circle>";
    // The name beside the bubble, on the side with room, moved up or down off any name
    // already placed (runs of similar latency and score would print over each other).
    const double text_w = 7.0 * static_cast<double>(r.model.size());
    const bool flip = cx + radius + 8 + text_w > left + plot_w;
    const double x0 = flip ? cx - radius - 4 - text_w : cx + radius + 4;
    const double y = free_label_row(placed, x0, x0 + text_w, cy + 4, top + 12, top + plot_h - 2);
    placed.push_back({x0, x0 + text_w, y});
    labels += "<text class=\"label\" x=\"" + num(flip ? cx - radius - 4 : cx + radius + 4) + "\" y=\"" + num(y) +
              "\" font-size=\"12\" text-anchor=\"" + (flip ? "end" : "start") + "\">" + escape(r.model) + "</text>";
  }
  svg += labels + "</svg>";
  std::string note = "<p>Bubble area is proportional to peak resident memory; a dashed ring is a run whose memory is "
                     "unknown (an endpoint).";
  if (!left_out.empty()) {
    note += " Not shown (no CIDEr or no latency):";
    for (const std::string& m : left_out) note += " " + escape(m);
    note += ".";
  }
  return svg + note + "</p>";
}

}  // namespace kantu::eval::html
