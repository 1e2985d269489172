// The HTML report: one file, inline CSS and SVG, no script and no network.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/report.h"
#include "eval/report_html_parts.h"

namespace kantu::eval {
namespace {

using html::escape;
using html::num;

// Grouped bars: one group per metric, one bar per run; values x100.
std::string scores_chart(const std::vector<RunStats>& runs) {
  const char* keys[] = {"Bleu_1", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE"};
  const char* names[] = {"BLEU-1", "BLEU-4", "METEOR", "ROUGE-L", "CIDEr", "SPICE"};
  std::vector<size_t> shown;
  double top = 1;
  for (size_t m = 0; m < std::size(keys); ++m) {
    bool any = false;
    for (const RunStats& r : runs)
      if (r.scores.contains(keys[m]) && r.scores.at(keys[m]).is_number()) {
        any = true;
        top = std::max(top, r.scores.at(keys[m]).get<double>() * 100);
      }
    if (any) shown.push_back(m);
  }
  const double width = 720, height = 260, left = 40, bottom = 30, plot_h = height - bottom - 10;
  double group_w = (width - left) / static_cast<double>(std::max<size_t>(shown.size(), 1));
  double bar_w = (group_w - 16) / static_cast<double>(std::max<size_t>(runs.size(), 1));
  std::string svg = "<svg viewBox=\"0 0 " + num(width, 0) + " " + num(height, 0) +
                    "\" width=\"" + num(width, 0) + "\" role=\"img\" aria-label=\"scores per model\">";
  svg += "<line x1=\"" + num(left, 0) + "\" y1=\"" + num(plot_h + 10, 0) + "\" x2=\"" + num(width, 0) +
         "\" y2=\"" + num(plot_h + 10, 0) + "\" stroke=\"#888\"/>";
  for (size_t g = 0; g < shown.size(); ++g) {
    size_t m = shown[g];
    double gx = left + static_cast<double>(g) * group_w + 8;
    for (size_t i = 0; i < runs.size(); ++i) {
      const Json& s = runs[i].scores;
      if (!s.contains(keys[m]) || !s.at(keys[m]).is_number()) continue;
      double v = s.at(keys[m]).get<double>() * 100;
      double h = plot_h * v / top;
      double x = gx + static_cast<double>(i) * bar_w;
      svg += "<rect x=\"" + num(x) + "\" y=\"" + num(plot_h + 10 - h) + "\" width=\"" + num(bar_w - 2) +
             "\" height=\"" + num(h) + "\" fill=\"" + html::color(i) + "\"><title>" +
             escape(runs[i].model) + " " + names[m] + ": " + num(v) + "</title></rect>";
      svg += "<text x=\"" + num(x + (bar_w - 2) / 2) + "\" y=\"" + num(plot_h + 6 - h) +
             "\" font-size=\"10\" text-anchor=\"middle\">" + num(v) + "</text>";
    }
    svg += "<text x=\"" + num(gx + (group_w - 16) / 2) + "\" y=\"" + num(height - 10, 0) +
           "\" font-size=\"12\" text-anchor=\"middle\">" + names[m] + "</text>";
  }
  return svg + "</svg>";
}

// Latency distribution: a histogram per run (outline), shared axis.
std::string latency_chart(const std::vector<RunStats>& runs) {
  double hi = 0;
  for (const RunStats& r : runs)
    for (double v : r.latencies_ms) hi = std::max(hi, v);
  if (hi <= 0) return "<p>No latency figures recorded.</p>";
  constexpr int kBins = 30;
  // The right margin keeps the last tick label ("1234 ms", centred on the axis end) inside.
  const double width = 720, height = 240, left = 40, right = 40, bottom = 30, plot_h = height - bottom - 10;
  const double plot_w = width - left - right;
  const double bin_w = plot_w / kBins;
  std::vector<std::vector<double>> fractions;
  double top = 0;
  for (const RunStats& r : runs) {
    std::vector<double> f(kBins, 0);
    for (double v : r.latencies_ms) f[std::min(kBins - 1, static_cast<int>(v / hi * kBins))] += 1;
    for (double& x : f) {
      x /= std::max<size_t>(r.latencies_ms.size(), 1);
      top = std::max(top, x);
    }
    fractions.push_back(f);
  }
  std::string svg = "<svg viewBox=\"0 0 " + num(width, 0) + " " + num(height, 0) + "\" width=\"" +
                    num(width, 0) + "\" role=\"img\" aria-label=\"latency distribution\">";
  svg += "<line x1=\"" + num(left, 0) + "\" y1=\"" + num(plot_h + 10, 0) + "\" x2=\"" + num(left + plot_w, 0) +
         "\" y2=\"" + num(plot_h + 10, 0) + "\" stroke=\"#888\"/>";
  for (int t = 0; t <= 4; ++t) {
    double x = left + plot_w * t / 4.0;
    svg += "<text class=\"tick\" x=\"" + num(x) + "\" y=\"" + num(height - 10, 0) +
           "\" font-size=\"11\" text-anchor=\"middle\">" + num(hi * t / 4.0, 0) + " ms</text>";
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    std::string points;
    for (int b = 0; b < kBins; ++b) {
      double y = plot_h + 10 - plot_h * fractions[i][static_cast<size_t>(b)] / std::max(top, 1e-12);
      points += num(left + b * bin_w) + "," + num(y) + " " + num(left + (b + 1) * bin_w) + "," + num(y) + " ";
    }
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(html::color(i)) +
           "\" points=\"" + points + "\"><title>" + escape(runs[i].model) + "</title></polyline>";
  }
  return svg + "</svg>";
}

}  // namespace

std::string report_html(const std::vector<RunStats>& runs) {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>kantu captioning "
      "benchmark</title><style>body{font:14px system-ui,sans-serif;margin:2em;max-width:900px}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
      "td:first-child,th:first-child{text-align:left}.key span,.swatch{display:inline-block;width:12px;"
      "height:12px;margin:0 4px 0 12px}.swatch{margin:0 6px 0 0}"
      ".gallery .item{display:flex;gap:16px;margin:0 0 16px;padding:0 0 16px;border-bottom:1px solid #ddd}"
      ".gallery img,.gallery .missing{width:192px;flex:none;object-fit:contain;align-self:flex-start}"
      ".gallery .missing{height:120px;background:#f4f4f4;color:#777;text-align:center;font-size:12px}"
      ".gallery figcaption{flex:1}.gallery ul{margin:4px 0 8px;padding-left:18px;color:#555}"
      ".gallery .captions th,.gallery .captions td{border:none;text-align:left;vertical-align:top;"
      "padding:2px 8px 2px 0;font-weight:normal}.gallery .captions th{white-space:nowrap}"
      "</style></head><body><h1>Captioning benchmark</h1>";
  html += "<p class=\"key\">";
  for (size_t i = 0; i < runs.size(); ++i)
    html += "<span style=\"background:" + std::string(html::color(i)) + "\"></span>" +
            escape(runs[i].model) + " (" + escape(runs[i].backend) + ")";
  html += "</p><table><tr><th>model</th><th>images</th><th>BLEU-1</th><th>BLEU-2</th><th>BLEU-3</th>"
          "<th>BLEU-4</th><th>METEOR</th><th>ROUGE-L</th><th>CIDEr</th><th>SPICE</th><th>mean ms</th>"
          "<th>p50 ms</th><th>p95 ms</th><th>tokens/s</th><th>peak MiB</th></tr>";
  for (const RunStats& r : runs) {
    html += "<tr><td>" + escape(r.model) + "</td><td>" + std::to_string(r.images) + "</td>";
    for (const char* key : {"Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr", "SPICE"})
      html += "<td>" + (r.scores.contains(key) && r.scores.at(key).is_number()
                            ? num(r.scores.at(key).get<double>() * 100)
                            : std::string("not computed")) + "</td>";
    auto opt = [](double v, int d) { return v >= 0 ? num(v, d) : std::string("n/a"); };
    html += "<td>" + opt(r.mean_ms, 0) + "</td><td>" + opt(r.p50_ms, 0) + "</td><td>" + opt(r.p95_ms, 0) +
            "</td><td>" + opt(r.tokens_per_s, 1) + "</td><td>" +
            (r.peak_memory_mb.is_number() ? num(r.peak_memory_mb.get<double>(), 0) : "unknown") + "</td></tr>";
  }
  html += "</table><p>Scores x100. METEOR and SPICE appear only when computed with the official jars.</p>";
  html += "<h2>Scores per model</h2>" + scores_chart(runs);
  html += "<h2>Quality against speed</h2>" + html::quality_speed_chart(runs);
  html += "<h2>Latency distribution</h2><p>Share of images per latency bin (whole request).</p>" +
          latency_chart(runs);
  html += "<h2>Gallery</h2>" + html::gallery(runs);
  return html + "</body></html>\n";
}

}  // namespace kantu::eval
