#include "runtime/generation_defaults.h"

namespace kantu::runtime {

GenerationDefaults generation_defaults(const GenerationConfig& config,
                                       const std::vector<int32_t>& stop_ids) {
  GenerationDefaults d;
  d.stop_ids = stop_ids;
  // Absent fields have the Hugging Face GenerationConfig defaults (formats/generation_config.h):
  // greedy unless do_sample, temperature 1, top_k 50, top_p 1.
  d.sampling.temperature = config.do_sample ? static_cast<float>(config.temperature) : 0.0f;
  d.sampling.top_k = static_cast<int>(config.top_k);
  d.sampling.top_p = static_cast<float>(config.top_p);
  d.sampling.min_p = static_cast<float>(config.min_p);
  d.sampling.repetition_penalty = static_cast<float>(config.repetition_penalty);
  // presence_penalty stays 0: transformers' generation has no such processor and ignores the
  // key (it is a vLLM/OpenAI setting some model cards recommend), so applying it would change
  // even greedy tokens against the reference. A request or --presence-penalty still sets it.
  d.max_new_tokens = config.max_new_tokens.value_or(256);
  return d;
}

SamplingParams sampling_params(const SamplingParams& defaults, const SamplingRequest& r) {
  SamplingParams s = defaults;
  if (r.temperature) s.temperature = *r.temperature;
  if (r.top_k) s.top_k = *r.top_k;
  if (r.top_p) s.top_p = *r.top_p;
  if (r.min_p) s.min_p = *r.min_p;
  if (r.repetition_penalty) s.repetition_penalty = *r.repetition_penalty;
  if (r.presence_penalty) s.presence_penalty = *r.presence_penalty;
  s.seed = r.seed;
  validate(s);
  return s;
}

}  // namespace kantu::runtime
