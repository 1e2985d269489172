// The state behind models::Model and models::Sequence (model.cpp): the opened model's
// weights and family parts, the decoder over them, and the per-sequence KV cache.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/weight_store.h"
#include "models/blocks/decoder.h"
#include "models/blocks/kv_cache.h"
#include "models/family.h"
#include "models/model.h"
#include "models/weight_cache.h"

namespace kantu::models {

// Rows one decoder forward handles at once: prefill is split into chunks of this size and
// a batched decode step into groups of this many sequences.
inline constexpr int64_t kMaxBatchRows = 256;
// Rows of logits a batched decode computes per pass over lm_head (the largest matrix:
// one pass serves this many sequences).
inline constexpr int64_t kLogitRows = 8;

// The per-sequence state behind models::Sequence.
struct SequenceState {
  std::optional<blocks::KvCache> cache;  // planned for `capacity` tokens
  int64_t capacity = 0;  // tokens the KV cache holds
  int64_t length = 0;    // tokens in the cache
  int64_t next_pos = 0;  // next text position (the family's position scheme)
  std::vector<float> logits;  // [vocab]
  bool has_logits = false;
  const void* owner = nullptr;  // the ModelImpl that created it
};

class ModelImpl {
 public:
  ModelImpl(ModelFolder&& model, const LoadOptions& options);

  std::string folder;
  ModelProfile profile;
  WeightStore store;   // backs every weight view below
  FamilyModel parts;
  blocks::Decoder decoder;
  ThreadPool pool;
  blocks::DecoderScratch scratch;
  // Per decode step (reused; sized to kMaxBatchRows at first use).
  std::vector<int64_t> pos_t, pos_h, pos_w;
  blocks::DecoderBatch decode_batch;  // no deepstack during decode
  std::vector<float> logits_scratch;  // [kLogitRows, vocab]
  std::unique_ptr<ConvertedWeights> converted;  // backs the converted matrices
  size_t weight_bytes = 0;  // the weights as they run (see Model::weight_bytes)

  // The layout of this model's KV blocks (owner: this model, so blocks never cross).
  blocks::KvShape kv_shape() const {
    return {parts.decoder.num_layers, parts.decoder.num_kv_heads * parts.decoder.head_dim,
            blocks::kKvBlockTokens, this};
  }

 private:
  void convert_weights_for(const WeightOptions& types);
};

}  // namespace kantu::models
