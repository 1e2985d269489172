// A model's decoding defaults (generation_config.json, parsed by formats) as the loop's
// sampling options, and the one rule for a request's own values over them: a value the
// request gives (a `run`/`chat` flag, a field of a server request) wins, anything it leaves
// out is the model's. `kantu run`, `kantu chat` and `kantu serve` all go through here.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "formats/generation_config.h"
#include "runtime/sampler.h"

namespace kantu::runtime {

// What generation_config.json says, as loop options: sampling defaults, stop ids.
struct GenerationDefaults {
  SamplingParams sampling;        // greedy when do_sample is false
  std::vector<int32_t> stop_ids;  // the model's (Model::eos_ids)
  int64_t max_new_tokens = 256;
};

// A model's generation config (parsed and checked by formats) as loop defaults, stopping
// on `stop_ids` (the model's eos ids, which its family decides).
GenerationDefaults generation_defaults(const GenerationConfig& config,
                                       const std::vector<int32_t>& stop_ids);

// The sampling values one request gives; an empty one takes the model's default.
struct SamplingRequest {
  std::optional<float> temperature;
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<float> presence_penalty;
  uint64_t seed = 0;  // no model gives one
};

// `defaults` with the request's values over them; validated (Error kInvalidArgument
// naming the field for an out-of-range value).
SamplingParams sampling_params(const SamplingParams& defaults, const SamplingRequest& request);

}  // namespace kantu::runtime
