#include "models/qwen3vl/text.h"

#include <cmath>

#include "core/error.h"
#include "kernels/ops.h"
#include "models/qwen3vl/positions.h"

namespace kantu::models::qwen3vl {
namespace {

void dump_rows(const TextDumpTarget& target, const std::string& name, const float* rows,
               int64_t n, int64_t cols) {
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

void TextScratch::allocate(const TextConfig& c, int64_t rows) {
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

TextModel::TextModel(const Config& config, const TextWeights& weights)
    : config_(config), weights_(weights), inv_freq_(text_inv_freq(config.text)) {}

void TextModel::embed(int32_t token, float* out) const {
  if (token < 0 || token >= config_.text.vocab_size) {
    fail(ErrorKind::kInvalidArgument, "token id ", token, " is outside the vocabulary (0..",
         config_.text.vocab_size - 1, ")");
  }
  kernels::weight_row_to_f32(weights_.embed_tokens, token, out);
}

void TextModel::lm_head(const float* rows, int64_t n, float* logits, ThreadPool* pool) const {
  kernels::matmul(rows, n, weights_.lm_head, nullptr, logits, pool);
}

void TextModel::attention_block(int64_t layer, const TextBatch& batch, TextScratch& s,
                                ThreadPool* pool) const {
  const TextConfig& c = config_.text;
  const TextLayerWeights& w = weights_.layers[layer];
  const int64_t n = batch.n_rows;
  const int64_t hd = c.head_dim, half = hd / 2;
  const int64_t q_dim = c.num_heads * hd, kv_dim = c.num_kv_heads * hd;

  kernels::matmul(s.normed.data(), n, w.q_proj, nullptr, s.q.data(), pool);
  kernels::matmul(s.normed.data(), n, w.k_proj, nullptr, s.k.data(), pool);
  kernels::matmul(s.normed.data(), n, w.v_proj, nullptr, s.v.data(), pool);
  // Per-head RMSNorm over head_dim, then rope (both per row; q and k in place).
  kernels::rms_norm(s.q.data(), w.q_norm.weight.data(), n * c.num_heads, hd, c.rms_norm_eps,
                    s.q.data());
  kernels::rms_norm(s.k.data(), w.k_norm.weight.data(), n * c.num_kv_heads, hd, c.rms_norm_eps,
                    s.k.data());
  for (int64_t r = 0; r < n; ++r) {
    const float* cs = s.cos.data() + r * half;
    const float* sn = s.sin.data() + r * half;
    for (int64_t h = 0; h < c.num_heads; ++h) {
      kernels::rope_rotate_half(s.q.data() + r * q_dim + h * hd, cs, sn, hd);
    }
    for (int64_t h = 0; h < c.num_kv_heads; ++h) {
      kernels::rope_rotate_half(s.k.data() + r * kv_dim + h * hd, cs, sn, hd);
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (const Segment& seg : batch.segments) {
    SequenceState& st = *seg.seq;
    for (int64_t i = 0; i < seg.n; ++i) {
      std::copy_n(s.k.data() + (seg.row0 + i) * kv_dim, kv_dim, st.k_at(layer, seg.start + i));
      std::copy_n(s.v.data() + (seg.row0 + i) * kv_dim, kv_dim, st.v_at(layer, seg.start + i));
    }
    kernels::AttentionShape shape{};
    shape.n_q = seg.n;
    shape.n_kv = seg.start + seg.n;
    shape.n_heads = static_cast<int>(c.num_heads);
    shape.n_kv_heads = static_cast<int>(c.num_kv_heads);
    shape.head_dim = static_cast<int>(hd);
    shape.q_stride = q_dim;
    shape.kv_stride = kv_dim;
    shape.out_stride = q_dim;
    shape.scale = scale;
    shape.causal_offset = seg.start;
    kernels::attention(s.q.data() + seg.row0 * q_dim, st.k_at(layer, 0), st.v_at(layer, 0),
                       s.attn.data() + seg.row0 * q_dim, shape, pool);
  }
  kernels::matmul(s.attn.data(), n, w.o_proj, nullptr, s.tmp.data(), pool);
}

void TextModel::forward(const TextBatch& batch, TextScratch& s, ThreadPool* pool,
                        const TextDumpTarget& dump) const {
  const TextConfig& c = config_.text;
  const int64_t n = batch.n_rows;
  const int64_t H = c.hidden_size;
  const int64_t half = c.head_dim / 2;
  KANTU_CHECK(n > 0 && n <= s.max_rows, "batch of ", n, " rows, scratch for ", s.max_rows);

  for (int64_t r = 0; r < n; ++r) {
    mrope_cos_sin(inv_freq_, c.mrope_section, batch.pos_t[r], batch.pos_h[r], batch.pos_w[r],
                  s.cos.data() + r * half, s.sin.data() + r * half);
  }
  dump_rows(dump, "text.hidden_states.0", s.x.data(), n, H);

  for (int64_t l = 0; l < c.num_layers; ++l) {
    const TextLayerWeights& w = weights_.layers[l];
    dump_rows(dump, "text.layer_input." + std::to_string(l), s.x.data(), n, H);
    kernels::rms_norm(s.x.data(), w.input_norm.weight.data(), n, H, c.rms_norm_eps,
                      s.normed.data());
    attention_block(l, batch, s, pool);
    kernels::add(s.x.data(), s.tmp.data(), s.x.data(), n * H);

    kernels::rms_norm(s.x.data(), w.post_attn_norm.weight.data(), n, H, c.rms_norm_eps,
                      s.normed.data());
    kernels::matmul(s.normed.data(), n, w.gate_proj, nullptr, s.gate.data(), pool);
    kernels::matmul(s.normed.data(), n, w.up_proj, nullptr, s.up.data(), pool);
    kernels::silu_mul(s.gate.data(), s.up.data(), s.gate.data(), n * c.intermediate_size);
    kernels::matmul(s.gate.data(), n, w.down_proj, nullptr, s.tmp.data(), pool);
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
  kernels::rms_norm(s.x.data(), weights_.final_norm.weight.data(), n, H, c.rms_norm_eps,
                    s.normed.data());
  dump_rows(dump, "text.final_norm", s.normed.data(), n, H);
}

}  // namespace kantu::models::qwen3vl
