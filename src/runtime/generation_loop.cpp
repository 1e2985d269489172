#include "runtime/generation_loop.h"

#include <algorithm>

#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "runtime/stop.h"

namespace kantu::runtime {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "?";
}

double prefill_tokens_per_second(int64_t prompt_tokens, int64_t cached_tokens, double prefill_ms) {
  const int64_t prefilled = prompt_tokens - std::clamp<int64_t>(cached_tokens, 0, prompt_tokens);
  return prefilled > 0 && prefill_ms > 0 ? static_cast<double>(prefilled) * 1000.0 / prefill_ms : 0;
}

GenerationResult run_generation_loop(StepModel& model, std::span<const int32_t> prompt_ids,
                                     TokenTextDecoder& decoder, const LoopOptions& options,
                                     const PieceCallback& on_piece, double elapsed_before_ms) {
  if (options.max_new_tokens < 0)
    fail(ErrorKind::kInvalidArgument, "max new tokens must be >= 0, got ", options.max_new_tokens);
  const int64_t n_prompt = static_cast<int64_t>(prompt_ids.size());
  if (n_prompt == 0) fail(ErrorKind::kInvalidArgument, "the prompt is empty");
  if (options.max_context > 0 && n_prompt > options.max_context)
    fail(ErrorKind::kTooLarge, "the prompt has ", n_prompt, " tokens, more than the context of ",
         options.max_context);

  Sampler sampler(options.sampling);
  StopStringMatcher stop_strings(options.stop_strings);
  GenerationResult result;
  Timings& t = result.timings;
  t.image_ms = 0;
  t.prompt_tokens = n_prompt;
  Timer total;

  int64_t limit = options.max_new_tokens;
  if (options.max_context > 0) limit = std::min(limit, options.max_context - n_prompt);

  // seen = prompt + generated (repetition penalty); the generated tail is a view of it.
  std::vector<int32_t> seen(prompt_ids.begin(), prompt_ids.end());
  seen.reserve(seen.size() + std::max<int64_t>(limit, 0));
  std::vector<float> logits;
  auto emit = [&](const std::string& piece) {
    result.text += piece;
    return on_piece ? on_piece(piece) : true;
  };

  if (limit <= 0) {
    result.finish_reason = FinishReason::kLength;
  } else {
    Timer phase;
    model.prefill(&logits);
    t.prefill_ms = phase.ms();
    t.cached_tokens = model.cached_tokens();
    result.finish_reason = FinishReason::kLength;
    for (int64_t step = 0; step < limit; ++step) {
      if (step > 0) {
        Timer decode_timer;
        model.decode(seen.back(), &logits);
        t.decode_ms += decode_timer.ms();
        ++t.decode_steps;
      }
      std::span<const int32_t> generated(seen.data() + n_prompt, seen.size() - n_prompt);
      const int32_t token = sampler.sample(logits, seen, generated);
      if (step == 0) t.ttft_ms = elapsed_before_ms + total.ms();
      seen.push_back(token);
      result.ids.push_back(token);
      const bool is_stop_id =
          !options.ignore_stop_ids &&
          std::find(options.stop_ids.begin(), options.stop_ids.end(), token) !=
              options.stop_ids.end();
      if (is_stop_id) {
        result.finish_reason = FinishReason::kStop;
        break;
      }
      const std::string piece = stop_strings.push(decoder.push(token));
      const bool keep_going = emit(piece);
      if (stop_strings.stopped()) {
        result.finish_reason = FinishReason::kStop;
        break;
      }
      if (!keep_going) {
        result.finish_reason = FinishReason::kCancelled;
        break;
      }
    }
  }
  // Release what the decoder and the stop-string matcher still hold, unless a stop
  // string ended the text or the caller went away.
  if (!stop_strings.stopped() && result.finish_reason != FinishReason::kCancelled) {
    std::string tail = stop_strings.push(decoder.flush());
    if (!stop_strings.stopped()) tail += stop_strings.flush();
    if (!tail.empty()) emit(tail);
    if (stop_strings.stopped()) result.finish_reason = FinishReason::kStop;
  }

  t.generated_tokens = static_cast<int64_t>(result.ids.size());
  t.prefill_tok_s = prefill_tokens_per_second(n_prompt, t.cached_tokens, t.prefill_ms);
  t.decode_tok_s = t.decode_ms > 0 ? t.decode_steps * 1000.0 / t.decode_ms : 0;
  t.total_ms = elapsed_before_ms + total.ms();
  result.peak_rss_mb = peak_rss_mb();
  return result;
}

}  // namespace kantu::runtime
