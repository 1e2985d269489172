#include "runtime/generation_report.h"

#include <cmath>
#include <cstdio>

namespace kantu::runtime {

namespace {

// Rounded to 0.01 so the JSON stays readable.
double round2(double x) { return std::round(x * 100.0) / 100.0; }

}  // namespace

Json timings_json(const Timings& t) {
  return Json{{"image_ms", round2(t.image_ms)},
              {"prefill_ms", round2(t.prefill_ms)},
              {"prefill_tok_s", round2(t.prefill_tok_s)},
              {"decode_ms", round2(t.decode_ms)},
              {"decode_tok_s", round2(t.decode_tok_s)},
              {"ttft_ms", round2(t.ttft_ms)},
              {"total_ms", round2(t.total_ms)},
              {"prompt_tokens", t.prompt_tokens},
              {"cached_tokens", t.cached_tokens},
              {"generated_tokens", t.generated_tokens}};
}

std::string summary_line(const GenerationResult& r) {
  const Timings& t = r.timings;
  char line[512];
  std::snprintf(line, sizeof line,
                "kantu: %lld prompt + %lld new tokens (%s) | image %.1f ms | prefill %.1f ms "
                "(%.1f tok/s) | decode %.2f tok/s | ttft %.1f ms | total %.1f ms | peak RSS %.0f MB",
                static_cast<long long>(t.prompt_tokens),
                static_cast<long long>(t.generated_tokens), finish_reason_name(r.finish_reason),
                t.image_ms, t.prefill_ms, t.prefill_tok_s, t.decode_tok_s, t.ttft_ms, t.total_ms,
                r.peak_rss_mb);
  return line;
}

}  // namespace kantu::runtime
