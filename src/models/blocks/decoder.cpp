#include "models/blocks/decoder.h"

#include <cmath>

#include "core/error.h"
#include "kernels/ops.h"

namespace kantu::models::blocks {
namespace {

void dump_rows(const DumpTarget& target, const std::string& name, const float* rows, int64_t n,
               int64_t cols) {
  if (!target.dumps) return;
  DumpTensor& t = (*target.dumps)[name];
  if (t.shape.empty()) {
    t.shape = {target.total_rows, cols};
    t.data.assign(target.total_rows * cols, 0.0f);
  }
  KANTU_CHECK(t.shape[1] == cols && target.row_offset + n <= t.shape[0]);
  std::copy(rows, rows + n * cols, t.data.begin() + target.row_offset * cols);
}

}  // namespace

void DecoderScratch::allocate(const DecoderConfig& c, int64_t rows) {
  max_rows = rows;
  const int64_t q_dim = c.num_heads * c.head_dim;
  const int64_t kv_dim = c.num_kv_heads * c.head_dim;
  x.assign(rows * c.hidden_size, 0.0f);
  normed.assign(rows * c.hidden_size, 0.0f);
  q.assign(rows * q_dim, 0.0f);
  k.assign(rows * kv_dim, 0.0f);
  v.assign(rows * kv_dim, 0.0f);
  attn.assign(rows * q_dim, 0.0f);
  tmp.assign(rows * c.hidden_size, 0.0f);
  gate.assign(rows * c.intermediate_size, 0.0f);
  up.assign(rows * c.intermediate_size, 0.0f);
  cos.assign(rows * c.head_dim / 2, 0.0f);
  sin.assign(rows * c.head_dim / 2, 0.0f);
}

size_t DecoderScratch::bytes() const {
  size_t n = 0;
  for (const std::vector<float>* b : {&x, &normed, &q, &k, &v, &attn, &tmp, &gate, &up, &cos, &sin}) n += b->size();
  return n * sizeof(float);
}

Decoder::Decoder(const DecoderConfig& config, const DecoderWeights& weights)
    : config_(config),
      weights_(weights),
      inv_freq_(rope_inv_freq(config.rope.theta, config.head_dim)) {}

void Decoder::embed(int32_t token, float* out) const {
  if (token < 0 || token >= config_.vocab_size) {
    fail(ErrorKind::kInvalidArgument, "token id ", token, " is outside the vocabulary (0..",
         config_.vocab_size - 1, ")");
  }
  kernels::weight_row_to_f32(weights_.embed_tokens, token, out);
}

void Decoder::lm_head(const float* rows, int64_t n, float* logits, ThreadPool* pool) const {
  kernels::matmul(rows, n, weights_.lm_head, nullptr, logits, pool);
}

void Decoder::attention(int64_t layer, const DecoderBatch& batch, DecoderScratch& s,
                        ThreadPool* pool) const {
  const DecoderConfig& c = config_;
  const DecoderLayerWeights& w = weights_.layers[layer];
  const int64_t n = batch.n_rows;
  const int64_t hd = c.head_dim;
  const int64_t q_dim = c.num_heads * hd, kv_dim = c.num_kv_heads * hd;

  linear(s.normed.data(), n, w.q_proj, s.q.data(), pool);
  linear(s.normed.data(), n, w.k_proj, s.k.data(), pool);
  linear(s.normed.data(), n, w.v_proj, s.v.data(), pool);
  if (c.qk_norm) {  // per head, over head_dim, before the rotation
    kernels::rms_norm(s.q.data(), w.q_norm.weight.data(), n * c.num_heads, hd, c.norm_eps,
                      s.q.data());
    kernels::rms_norm(s.k.data(), w.k_norm.weight.data(), n * c.num_kv_heads, hd, c.norm_eps,
                      s.k.data());
  }
  apply_rope(s.q.data(), n, c.num_heads, hd, q_dim, s.cos.data(), s.sin.data());
  apply_rope(s.k.data(), n, c.num_kv_heads, hd, kv_dim, s.cos.data(), s.sin.data());

  CausalAttentionSpec spec;
  spec.heads = static_cast<int>(c.num_heads);
  spec.kv_heads = static_cast<int>(c.num_kv_heads);
  spec.head_dim = static_cast<int>(hd);
  spec.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (const DecoderSegment& seg : batch.segments) {
    seg.cache->store(layer, seg.start, seg.n, s.k.data() + seg.row0 * kv_dim,
                     s.v.data() + seg.row0 * kv_dim, kv_dim);
    seg.cache->attend(layer, spec, s.q.data() + seg.row0 * q_dim, q_dim, seg.start, seg.n,
                      s.attn.data() + seg.row0 * q_dim, q_dim, pool);
  }
  linear(s.attn.data(), n, w.o_proj, s.tmp.data(), pool);
}

void Decoder::forward(const DecoderBatch& batch, DecoderScratch& s, ThreadPool* pool,
                      const DumpTarget& dump) const {
  const DecoderConfig& c = config_;
  const int64_t n = batch.n_rows;
  const int64_t H = c.hidden_size;
  const int64_t half = c.head_dim / 2;
  KANTU_CHECK(n > 0 && n <= s.max_rows, "batch of ", n, " rows, scratch for ", s.max_rows);
  KANTU_CHECK(static_cast<int64_t>(batch.deepstack.size()) <= c.deepstack_levels,
              batch.deepstack.size(), " deepstack levels for a decoder of ", c.deepstack_levels);

  for (int64_t r = 0; r < n; ++r) {
    rope_cos_sin(c.rope, inv_freq_, batch.pos_t[r], batch.pos_h[r], batch.pos_w[r],
                 s.cos.data() + r * half, s.sin.data() + r * half);
  }
  dump_rows(dump, "text.hidden_states.0", s.x.data(), n, H);

  for (int64_t l = 0; l < c.num_layers; ++l) {
    const DecoderLayerWeights& w = weights_.layers[l];
    dump_rows(dump, "text.layer_input." + std::to_string(l), s.x.data(), n, H);
    apply_norm(c.norm, w.input_norm, s.x.data(), n, H, c.norm_eps, s.normed.data());
    attention(l, batch, s, pool);
    kernels::add(s.x.data(), s.tmp.data(), s.x.data(), n * H);

    apply_norm(c.norm, w.post_attn_norm, s.x.data(), n, H, c.norm_eps, s.normed.data());
    mlp_forward(c.mlp, w.mlp, s.normed.data(), n, s.gate.data(), s.up.data(), s.tmp.data(), pool);
    kernels::add(s.x.data(), s.tmp.data(), s.x.data(), n * H);
    dump_rows(dump, "text.layer_output_pre_deepstack." + std::to_string(l), s.x.data(), n, H);

    // DeepStack: after layer l, visual rows get feature level l added.
    if (l < static_cast<int64_t>(batch.deepstack.size())) {
      const std::vector<const float*>& rows = batch.deepstack[l];
      for (int64_t r = 0; r < n; ++r) {
        if (rows[r]) kernels::add(s.x.data() + r * H, rows[r], s.x.data() + r * H, H);
      }
    }
    dump_rows(dump, "text.hidden_states." + std::to_string(l + 1), s.x.data(), n, H);
  }
  apply_norm(c.norm, weights_.final_norm, s.x.data(), n, H, c.norm_eps, s.normed.data());
  dump_rows(dump, "text.final_norm", s.normed.data(), n, H);
}

}  // namespace kantu::models::blocks
