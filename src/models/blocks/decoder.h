// The decoder-only transformer every family's language model is a configuration of
// (Qwen3 with q/k norms and DeepStack, Qwen2 with q/k/v biases and chunked M-RoPE,
// Llama/Mistral with plain RoPE): pre-norm layers of causal self-attention over the
// KV cache and a (usually gated) MLP, a final norm and the output head.
//
// One forward runs a batch of rows that may come from several sequences, each row with
// its own position and KV-cache slot: prefill is one segment of many rows, a batched
// decode step is many segments of one row.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "models/blocks/binder.h"
#include "models/blocks/kv_cache.h"
#include "models/blocks/linear.h"
#include "models/blocks/mlp.h"
#include "models/blocks/norm.h"
#include "models/blocks/rope.h"
#include "models/model.h"

namespace kantu::models::blocks {

struct DecoderConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // q_proj out = num_heads * head_dim (may differ from hidden_size)
  int64_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  NormKind norm = NormKind::kRms;
  float norm_eps = 1e-6f;
  bool qk_norm = false;   // per-head RMSNorm of q and k before the rotation (Qwen3)
  bool qkv_bias = false;  // biases on q_proj, k_proj, v_proj (Qwen2)
  bool o_bias = false;    // bias on o_proj (Llama's attention_bias sets both)
  bool mlp_bias = false;  // biases on the MLP projections (Llama's mlp_bias)
  MlpSpec mlp;            // gated SiLU for every family so far
  RopeSpec rope;
  // Rows may carry extra features to add after layers 0 .. deepstack_levels - 1
  // (Qwen3-VL's DeepStack); 0 for every other family.
  int64_t deepstack_levels = 0;
  bool tie_word_embeddings = false;  // lm_head = embed_tokens
};

struct DecoderLayerWeights {
  Norm input_norm;      // [hidden]
  Norm post_attn_norm;  // [hidden]
  Norm q_norm, k_norm;  // [head_dim], qk_norm only
  Linear q_proj;        // [heads * head_dim, hidden]
  Linear k_proj;        // [kv_heads * head_dim, hidden]
  Linear v_proj;        // [kv_heads * head_dim, hidden]
  Linear o_proj;        // [hidden, heads * head_dim]
  MlpWeights mlp;       // gate/up [intermediate, hidden], down [hidden, intermediate]
};

struct DecoderWeights {
  kernels::WeightMatrix embed_tokens;  // [vocab, hidden]; rows converted to f32 on lookup
  std::vector<DecoderLayerWeights> layers;
  Norm final_norm;                  // [hidden]
  kernels::WeightMatrix lm_head;    // [vocab, hidden]; a copy of embed_tokens' view when tied
};

// Where a checkpoint keeps the decoder: <prefix>embed_tokens.weight,
// <prefix>layers.<i>.{input_layernorm, self_attn.{q,k,v,o}_proj, self_attn.{q,k}_norm,
// post_attention_layernorm, mlp.{gate,up,down}_proj}, <prefix>norm.weight, and lm_head.
struct DecoderNames {
  std::string prefix;                    // e.g. "model.language_model."
  std::string lm_head = "lm_head.weight";
};

// Every tensor name the config needs (for one "missing tensors" error listing them all).
std::vector<std::string> decoder_tensor_names(const DecoderConfig& c, const DecoderNames& names);
DecoderWeights bind_decoder(const Binder& b, const DecoderConfig& c, const DecoderNames& names);
// The matrices --weights converts, named "text.layers.<i>.q_proj" … "text.lm_head".
// embed_tokens is not among them: it is read one row per token.
void decoder_matrices(DecoderWeights& w, std::vector<NamedMatrix>& out);

// A run of consecutive rows of one sequence, written to its cache at [start, start + n).
struct DecoderSegment {
  KvCache* cache = nullptr;
  int64_t start = 0;  // cache index of the first row (= tokens before it)
  int64_t n = 0;
  int64_t row0 = 0;   // first row in the batch
};

struct DecoderBatch {
  int64_t n_rows = 0;
  const int64_t* pos_t = nullptr;  // [n_rows] positions per axis (kPlain reads pos_t)
  const int64_t* pos_h = nullptr;
  const int64_t* pos_w = nullptr;
  std::vector<DecoderSegment> segments;
  // deepstack[level][row]: the feature row to add after layer `level`, or null.
  std::vector<std::vector<const float*>> deepstack;
};

// Where named intermediates of a chunked prefill go: rows [row_offset, row_offset + n)
// of tensors with `total_rows` rows (see Dumps in model.h for the names).
struct DumpTarget {
  Dumps* dumps = nullptr;
  int64_t row_offset = 0;
  int64_t total_rows = 0;
};

// Activation scratch for up to max_rows rows, allocated once.
struct DecoderScratch {
  int64_t max_rows = 0;
  std::vector<float> x;       // [rows, hidden] residual stream (input: embeddings)
  std::vector<float> normed;  // [rows, hidden]
  std::vector<float> q;       // [rows, heads * head_dim]
  std::vector<float> k, v;    // [rows, kv_heads * head_dim]
  std::vector<float> attn;    // [rows, heads * head_dim]
  std::vector<float> tmp;     // [rows, hidden]
  std::vector<float> gate, up;  // [rows, intermediate]
  std::vector<float> cos, sin;  // [rows, head_dim / 2]

  void allocate(const DecoderConfig& c, int64_t rows);
  size_t bytes() const;  // what the buffers hold
};

class Decoder {
 public:
  // Keeps references: config and weights must outlive the decoder (weights may be
  // rebound, e.g. to converted matrices, and are read at call time).
  Decoder(const DecoderConfig& config, const DecoderWeights& weights);

  const DecoderConfig& config() const { return config_; }
  // Embedding row of a token into out[hidden] (Error(kInvalidArgument) if out of range).
  void embed(int32_t token, float* out) const;
  // Runs all layers on scratch.x[0 .. n_rows) (filled by the caller with embeddings),
  // writing each segment's K/V into its cache, and leaves the final-normed rows in
  // scratch.normed. Caches must have room; sequence lengths are not updated here.
  void forward(const DecoderBatch& batch, DecoderScratch& s, ThreadPool* pool,
               const DumpTarget& dump) const;
  // logits[n, vocab] = rows[n, hidden] · lm_headᵀ.
  void lm_head(const float* rows, int64_t n, float* logits, ThreadPool* pool) const;

 private:
  void attention(int64_t layer, const DecoderBatch& batch, DecoderScratch& s,
                 ThreadPool* pool) const;

  const DecoderConfig& config_;
  const DecoderWeights& weights_;
  std::vector<float> inv_freq_;  // [head_dim / 2]
};

}  // namespace kantu::models::blocks
