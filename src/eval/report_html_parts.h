// The pieces of the HTML report (report_html.cpp puts them together): shared formatting
// helpers and the sections that have a file of their own. Internal to eval/.
#pragma once

#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "eval/report.h"

namespace kantu::eval::html {

inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

inline std::string num(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// One colour per run, in report order.
inline const char* color(size_t run) {
  static const char* const kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                                        "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};
  return kColors[run % std::size(kColors)];
}

// CIDEr against mean latency, one bubble per run, its area proportional to peak memory
// (report_quality_speed.cpp).
std::string quality_speed_chart(const std::vector<RunStats>& runs);

// Every captioned image: a thumbnail, its reference captions and each run's caption side
// by side (report_gallery.cpp). Empty when the runs do not share one annotation file.
std::string gallery(const std::vector<RunStats>& runs);

}  // namespace kantu::eval::html
