// The server's view of the model: what one chat request is, and the two calls the
// server needs from an inference engine. The HTTP layer only knows this interface;
// real_engine.h adapts the runtime to it (the only engine the binary ships; the unit
// tests' deterministic stand-in is tests/support/fake_engine.h).
//
// Thread contract:
//   Engine::prepare() runs on HTTP threads, concurrently: it must be thread-safe and
//   cheap (decode images, tokenize, check limits), and throws kantu::Error for bad
//   input (kInvalidArgument, kUnsupported, kTooLarge) before any model work.
//   Sequence::step() and Engine::step_batch() run only on the single engine-loop
//   thread (scheduler.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/generation_defaults.h"
#include "server/lru_cache.h"

namespace kantu::runtime {
class PrefixCache;
}

namespace kantu::server {

// One part of a message's content, in order.
struct ContentPart {
  enum class Kind { kText, kImage };
  Kind kind = Kind::kText;
  std::string text;        // kText
  size_t image_index = 0;  // kImage: index into ChatRequest::images
};

struct ChatMessage {
  std::string role;  // system, user, assistant, tool
  std::vector<ContentPart> parts;
};

struct GenerationParams {
  int max_tokens = 0;  // 0 = the engine's default (the model's max_new_tokens), within the context
  // What the request gives; the rest is the model's generation_config.json (as for `run`).
  runtime::SamplingRequest sampling;
  std::vector<std::string> stop;  // stop strings, not included in the answer
  int64_t min_pixels = 0;         // per-request image budget; 0 = the model's default
  int64_t max_pixels = 0;
};

struct ChatRequest {
  std::vector<ChatMessage> messages;
  std::vector<std::string> images;  // encoded image files (JPEG, PNG, WebP, GIF, BMP bytes)
  GenerationParams params;
};

// Per-request figures reported in the response's `timings` field.
struct SequenceStats {
  int prompt_tokens = 0;
  int image_tokens = 0;
  int cached_tokens = 0;  // prompt tokens whose keys and values came from the prefix cache
  int completion_tokens = 0;
  double image_ms = 0;    // vision encoding (≈0 when every image came from the cache)
  bool image_cached = false;  // true when every image of the request came from the cache
  double prefill_ms = 0;
  double decode_ms = 0;   // from the first generated token to the last
  std::string finish_reason;  // "stop" or "length" once finished
};

// One request in flight: prompt prepared, generation state, KV cache (allocated on
// the first step). Owned by the scheduler; only the engine thread advances it.
class Sequence {
 public:
  virtual ~Sequence() = default;
  // Advances this sequence alone. Before its first token, a call does one piece of the
  // prefill (the engine may split it: vision tower, chunks of the prompt) and the call
  // that ends the prefill samples the first token; started() tells which. Afterwards,
  // one token per call. Returns the text that became final during this step (may be
  // empty: held back for a possible stop string or an incomplete UTF-8 character, or
  // still prefilling). Throws kantu::Error on failure.
  virtual std::string step() = 0;
  // True once the first step (prefill) has run: the sequence is decoding and can
  // join Engine::step_batch().
  virtual bool started() const = 0;
  virtual bool finished() const = 0;
  virtual const SequenceStats& stats() const = 0;
};

// What one sequence of a batched step produced.
struct StepResult {
  std::string text;            // newly final text, as Sequence::step() returns it
  std::optional<Error> error;  // set when this sequence failed; the others go on
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string model_id() const = 0;
  virtual int64_t context_length() const = 0;
  // Validates and prepares a request (see the thread contract above). A prompt that
  // does not fit the context with at least one generated token is refused here.
  virtual std::unique_ptr<Sequence> prepare(const ChatRequest& request) = 0;
  // One decode token for each of `seqs` (distinct, started, not finished, all made by
  // this engine's prepare()). The real engine runs them through the model in one
  // pass over the weights (continuous batching); sampling, stop strings and text
  // stay per sequence. results[i] belongs to seqs[i]; a failure of the shared pass
  // is reported for every sequence of the batch.
  virtual std::vector<StepResult> step_batch(std::span<Sequence* const> seqs) = 0;
  // The prefix KV cache the engine reuses prompts from (for /metrics); null: none.
  virtual std::shared_ptr<const runtime::PrefixCache> prefix_cache() const { return nullptr; }
  // What the image-embedding cache holds now (for /metrics; any thread); none: no cache.
  virtual std::optional<CacheUsage> image_cache_usage() const { return std::nullopt; }
};

}  // namespace kantu::server
