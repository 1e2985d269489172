// The Engine over the real model: Qwen3-VL weights (models/model.h), the tokenizer and
// chat format (text/), image decoding and preprocessing (image/), sampling and stop
// strings (runtime/). Images are decoded and sized on the HTTP thread in prepare()
// (bad images fail before queuing); pixel preprocessing and the vision tower run on
// the engine thread, through an LRU cache of vision outputs keyed by the image bytes
// and the pixel budget. With a memory budget, prepare() plans what the request will
// allocate from the image headers, the prompt and max_tokens, and waits for room (or
// refuses) before it decodes a pixel.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "models/model.h"
#include "runtime/prefix_cache.h"
#include "server/engine.h"
#include "server/memory_budget.h"

namespace kantu::server {

inline constexpr size_t kDefaultKvCacheBytes = size_t{1024} << 20;

struct RealEngineOptions {
  int threads = 0;               // compute threads (0 = one per core)
  models::WeightOptions weights; // --weights / --vision-weights / --cache-dir
  int64_t context_length = 4096; // per sequence, capped by the model's max
  // A request without max_tokens generates up to the model's max_new_tokens
  // (generation_config.json), as `kantu run` does; this when the model gives none. Either
  // way at most what the context leaves after the prompt.
  int default_max_tokens = 1024;
  size_t cache_bytes = 256u << 20;
  // The prefix KV cache (runtime/prefix_cache.h): earlier requests' keys and values, so a
  // conversation's next turn prefills only what is new (0 = off).
  // Unset: a quarter of what the memory plan leaves for requests after the fixed parts,
  // at most kDefaultKvCacheBytes (that alone without a plan).
  std::optional<size_t> kv_cache_bytes;
  // A cache to use instead of a new one (tests share one between engines).
  std::shared_ptr<runtime::PrefixCache> prefix_cache;
  // Chunked prefill (prefill_pacer.h): while streams decode, a prompt is prefilled in
  // chunks of about this many decode steps' time (0 = in one piece).
  double prefill_chunk_steps = 2.0;
  std::string mmproj;            // the vision projector of a GGUF model file ("" = none)
  // The server's memory plan (memory_budget.h): the engine reserves its fixed parts when
  // it loads and each request's needs in prepare(). Null: no admission by memory.
  std::shared_ptr<MemoryBudget> memory;
};

// model_dir: a Hugging Face folder, or a GGUF model file (+ options.mmproj).
std::unique_ptr<Engine> load_real_engine(const std::string& model_dir,
                                         const RealEngineOptions& options);

}  // namespace kantu::server
