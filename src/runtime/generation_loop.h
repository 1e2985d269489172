// The token loop shared by `kantu run`, `kantu bench`, `kantu serve` and `kantu eval`:
// prefill -> sample -> (stop? stream text) -> decode -> sample ... It knows nothing
// about images or tokenizers: the model side is a StepModel (one sequence with its
// KV cache) and the text side a TokenTextDecoder, so it is tested with fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.h"

namespace kantu::runtime {

// One sequence of a model, prompt already set up by the owner.
class StepModel {
 public:
  virtual ~StepModel() = default;
  // Runs the whole prompt; fills `logits` [vocab] with the last position's logits.
  virtual void prefill(std::vector<float>* logits) = 0;
  // Appends `token` to the sequence; fills `logits` [vocab] for the next position.
  virtual void decode(int32_t token, std::vector<float>* logits) = 0;
  // Prompt tokens a prefix cache supplied, which prefill() does not run (known before it).
  virtual int64_t cached_tokens() const { return 0; }
};

// Token ids -> UTF-8 text, one token at a time; returns only complete characters
// (bytes of a split character wait for the next token).
class TokenTextDecoder {
 public:
  virtual ~TokenTextDecoder() = default;
  virtual std::string push(int32_t id) = 0;
  virtual std::string flush() = 0;  // whatever is left (invalid tails as U+FFFD)
};

enum class FinishReason { kStop, kLength, kCancelled };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "cancelled"

struct Timings {
  double image_ms = 0;       // image decode + preprocess + vision tower (set by the caller)
  double prefill_ms = 0;
  double prefill_tok_s = 0;  // prefill_tokens_per_second(): prefilled (uncached) tokens / time
  double decode_ms = 0;      // all decode steps
  double decode_tok_s = 0;   // decode steps / decode time
  double ttft_ms = 0;        // request start -> first token sampled
  double total_ms = 0;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;  // of the prompt, reused from a prefix cache (not prefilled)
  int64_t generated_tokens = 0;
  int64_t decode_steps = 0;
};

struct GenerationResult {
  std::vector<int32_t> ids;  // generated ids, including a final stop token if one was sampled
  std::string text;          // decoded answer without stop token / stop string
  FinishReason finish_reason = FinishReason::kLength;
  Timings timings;
  double peak_rss_mb = -1;
};

struct LoopOptions {
  SamplingParams sampling;
  int64_t max_new_tokens = 256;
  std::vector<int32_t> stop_ids;  // sampled stop ids end generation (not decoded to text)
  std::vector<std::string> stop_strings;
  bool ignore_stop_ids = false;   // bench: always generate max_new_tokens
  int64_t max_context = 0;        // prompt + generated limit; 0 = none
};

// Prompt tokens prefilled per second: the tokens the prefill ran (a prefix cache's are
// not run), over its time. 0 when there is nothing to measure (no time, or every token
// cached). The one formula of run, chat, bench, eval and the server's `timings`.
double prefill_tokens_per_second(int64_t prompt_tokens, int64_t cached_tokens, double prefill_ms);

// Called once per generated token with the text released by that token (may be
// empty); return false to cancel (finish reason kCancelled). May be empty.
using PieceCallback = std::function<bool(std::string_view piece)>;

// Runs the loop. `prompt_ids` feed the repetition penalty. `elapsed_before_ms` is
// the request time already spent (image encoding), added to ttft and total.
GenerationResult run_generation_loop(StepModel& model, std::span<const int32_t> prompt_ids,
                                     TokenTextDecoder& decoder, const LoopOptions& options,
                                     const PieceCallback& on_piece,
                                     double elapsed_before_ms = 0);

}  // namespace kantu::runtime
