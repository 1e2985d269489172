// The Qwen3-VL language model (a Qwen3 decoder with interleaved M-RoPE and DeepStack):
// one forward over a batch of rows that may come from several sequences, each row with
// its own 3-D position and KV-cache slot. Prefill is one segment of many rows; batched
// decode is many segments of one row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "models/model.h"
#include "models/qwen3vl/config.h"
#include "models/qwen3vl/weights.h"

namespace kantu::models {

// The per-sequence state behind models::Sequence.
struct SequenceState {
  int64_t capacity = 0;     // tokens the KV cache holds
  int64_t length = 0;       // tokens in the cache
  int64_t next_pos = 0;     // next text position (M-RoPE)
  int64_t n_layers = 0;
  int64_t kv_dim = 0;       // kv_heads * head_dim
  std::vector<float> k_cache, v_cache;  // [layers, capacity, kv_dim]
  std::vector<float> logits;            // [vocab]
  bool has_logits = false;
  const void* owner = nullptr;          // the ModelImpl that created it

  float* k_at(int64_t layer, int64_t index) {
    return k_cache.data() + (layer * capacity + index) * kv_dim;
  }
  float* v_at(int64_t layer, int64_t index) {
    return v_cache.data() + (layer * capacity + index) * kv_dim;
  }
};

namespace qwen3vl {

// A run of consecutive rows of one sequence, written to its cache at [start, start + n).
struct Segment {
  SequenceState* seq = nullptr;
  int64_t start = 0;  // cache index of the first row (= tokens before it)
  int64_t n = 0;
  int64_t row0 = 0;   // first row in the batch
};

struct TextBatch {
  int64_t n_rows = 0;
  const int64_t* pos_t = nullptr;  // [n_rows] M-RoPE positions per axis
  const int64_t* pos_h = nullptr;
  const int64_t* pos_w = nullptr;
  std::vector<Segment> segments;
  // deepstack[level][row]: the feature row to add after layer `level`, or null.
  std::vector<std::vector<const float*>> deepstack;
};

// Where named intermediates of a chunked prefill go: rows [row_offset, row_offset + n)
// of tensors with `total_rows` rows.
struct TextDumpTarget {
  Dumps* dumps = nullptr;
  int64_t row_offset = 0;
  int64_t total_rows = 0;
};

// Activation scratch for up to max_rows rows, allocated once.
struct TextScratch {
  int64_t max_rows = 0;
  std::vector<float> x;       // [rows, hidden] residual stream (input: embeddings)
  std::vector<float> normed;  // [rows, hidden]
  std::vector<float> q;       // [rows, heads * head_dim]
  std::vector<float> k, v;    // [rows, kv_heads * head_dim]
  std::vector<float> attn;    // [rows, heads * head_dim]
  std::vector<float> tmp;     // [rows, hidden]
  std::vector<float> gate, up;  // [rows, intermediate]
  std::vector<float> cos, sin;  // [rows, head_dim / 2]

  void allocate(const TextConfig& c, int64_t rows);
};

class TextModel {
 public:
  TextModel(const Config& config, const TextWeights& weights);

  // Embedding row of a token into out[hidden] (Error(kInvalidArgument) if out of range).
  void embed(int32_t token, float* out) const;

  // Runs all layers on scratch.x[0 .. n_rows) (filled by the caller with embeddings),
  // writing each segment's K/V into its sequence cache, and leaves the final-normed rows
  // in scratch.normed. Segment caches must have room; lengths are not updated here.
  void forward(const TextBatch& batch, TextScratch& s, ThreadPool* pool,
               const TextDumpTarget& dump) const;

  // logits[n, vocab] = rows[n, hidden] · lm_headᵀ.
  void lm_head(const float* rows, int64_t n, float* logits, ThreadPool* pool) const;

 private:
  void attention_block(int64_t layer, const TextBatch& batch, TextScratch& s,
                       ThreadPool* pool) const;

  const Config& config_;
  const TextWeights& weights_;
  std::vector<float> inv_freq_;  // [head_dim / 2]
};

}  // namespace qwen3vl
}  // namespace kantu::models
