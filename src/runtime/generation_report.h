// How a generation's figures are shown: the JSON block of `run --json`, `bench` and
// the server's usage, and the one-line summary every run prints on stderr.
#pragma once

#include <string>

#include "core/json.h"
#include "runtime/generation_loop.h"

namespace kantu::runtime {

// {"image_ms", "prefill_ms", "prefill_tok_s", "decode_ms", "decode_tok_s", "ttft_ms",
//  "total_ms", "prompt_tokens", "generated_tokens"}
Json timings_json(const Timings& t);

// "kantu: 80 prompt + 20 new tokens (length) | image 12.1 ms | prefill 40.2 ms
//  (1990 tok/s) | decode 88.0 tok/s | ttft 55.3 ms | peak RSS 120 MB"
std::string summary_line(const GenerationResult& r);

}  // namespace kantu::runtime
