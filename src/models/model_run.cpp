// Model::prefill and Model::decode_batch: token rows through the family's decoder, with
// the visual rows spliced in and positions from the family's position scheme.
#include <algorithm>

#include "core/error.h"
#include "models/blocks/positions.h"
#include "models/model.h"
#include "models/model_impl.h"

namespace kantu::models {

namespace {

// Each visual row of the vision outputs, in order of appearance, with its feature
// rows for the decoder's DeepStack levels.
struct VisualRows {
  std::vector<blocks::VisualItem> items;
  std::vector<const float*> embeds;
  std::vector<std::vector<const float*>> deepstack;  // [level][row]
};

VisualRows collect_visual_rows(const std::vector<const VisionOutput*>& vision, int64_t hidden,
                               size_t levels) {
  VisualRows out;
  out.deepstack.resize(levels);
  for (const VisionOutput* vo : vision) {
    if (!vo) fail(ErrorKind::kInvalidArgument, "prefill: null vision output");
    if (vo->hidden != hidden || vo->embeds.size() != static_cast<size_t>(vo->n_tokens * hidden) ||
        vo->deepstack.size() != levels || vo->tokens_per_image.size() != vo->grids.size()) {
      fail(ErrorKind::kInvalidArgument, "prefill: vision output does not match this model");
    }
    for (size_t i = 0; i < vo->grids.size(); ++i) {
      blocks::VisualItem item;
      item.grid = vo->grids[i];
      item.tokens = vo->tokens_per_image[i];
      if (i < vo->second_per_grid_t.size()) item.second_per_grid_t = vo->second_per_grid_t[i];
      out.items.push_back(item);
    }
    for (int64_t r = 0; r < vo->n_tokens; ++r) {
      out.embeds.push_back(vo->embeds.data() + r * hidden);
      for (size_t l = 0; l < levels; ++l) out.deepstack[l].push_back(vo->deepstack[l].data() + r * hidden);
    }
  }
  return out;
}

void dump_positions(Dumps* dumps, const blocks::PositionIds& pos, int64_t n) {
  // Text dumps of an earlier prefill would have other row counts: start afresh.
  std::erase_if(*dumps, [](const auto& kv) { return kv.first.rfind("text.", 0) == 0; });
  DumpTensor& p = (*dumps)["text.position_ids"];
  p.shape = {3, n};
  p.data.resize(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    p.data[i] = float(pos.t[i]);
    p.data[n + i] = float(pos.h[i]);
    p.data[2 * n + i] = float(pos.w[i]);
  }
}

}  // namespace

void Model::prefill(Sequence& seq, std::span<const int32_t> ids,
                    const std::vector<const VisionOutput*>& vision, const PrefillOptions& options) {
  ModelImpl& m = *impl_;
  SequenceState& st = seq.state();
  const int64_t H = m.parts.decoder.hidden_size;
  const int64_t V = m.parts.decoder.vocab_size;
  if (st.owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) fail(ErrorKind::kInvalidArgument, "prefill: no tokens");
  if (st.length + n > st.capacity) {
    fail(ErrorKind::kTooLarge, "prompt of ", n, " tokens does not fit: the sequence holds ",
         st.length, " of ", st.capacity, " tokens of context");
  }
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      fail(ErrorKind::kInvalidArgument, "token id ", ids[i], " at position ", i,
           " is outside the vocabulary (0..", V - 1, ")");
    }
  }

  const size_t n_levels = m.parts.vision ? m.parts.vision->deepstack_levels() : 0;
  const VisualRows visual = collect_visual_rows(vision, H, n_levels);
  const blocks::PositionIds pos =
      blocks::compute_positions(m.parts.positions, ids, visual.items, st.next_pos);
  KANTU_CHECK(pos.visual_rows.size() == visual.embeds.size(), "visual rows ",
              pos.visual_rows.size(), " vs vision tokens ", visual.embeds.size());
  std::vector<int64_t> visual_index(n, -1);
  for (size_t k = 0; k < pos.visual_rows.size(); ++k) visual_index[pos.visual_rows[k]] = int64_t(k);

  if (options.dumps) dump_positions(options.dumps, pos, n);
  if (options.all_logits) options.all_logits->assign(n * V, 0.0f);

  blocks::DecoderScratch& s = m.scratch;
  blocks::DecoderBatch batch;
  batch.deepstack.assign(n_levels, std::vector<const float*>(kMaxBatchRows, nullptr));
  for (int64_t c0 = 0; c0 < n; c0 += kMaxBatchRows) {
    const int64_t cn = std::min(kMaxBatchRows, n - c0);
    batch.n_rows = cn;
    batch.pos_t = pos.t.data() + c0;
    batch.pos_h = pos.h.data() + c0;
    batch.pos_w = pos.w.data() + c0;
    batch.segments = {blocks::DecoderSegment{&*st.cache, st.length, cn, 0}};
    for (int64_t r = 0; r < cn; ++r) {
      const int64_t vi = visual_index[c0 + r];
      float* dst = s.x.data() + r * H;
      if (vi >= 0) {
        std::copy_n(visual.embeds[vi], H, dst);
      } else {
        m.decoder.embed(ids[c0 + r], dst);
      }
      for (size_t l = 0; l < n_levels; ++l) {
        batch.deepstack[l][r] = vi >= 0 ? visual.deepstack[l][vi] : nullptr;
      }
    }
    m.decoder.forward(batch, s, &m.pool, {options.dumps, c0, n});
    st.length += cn;
    if (options.all_logits) {
      m.decoder.lm_head(s.normed.data(), cn, options.all_logits->data() + c0 * V, &m.pool);
    } else if (c0 + cn == n) {
      m.decoder.lm_head(s.normed.data() + (cn - 1) * H, 1, st.logits.data(), &m.pool);
    }
  }
  if (options.all_logits) {
    std::copy_n(options.all_logits->data() + (n - 1) * V, V, st.logits.data());
  }
  st.next_pos = pos.next_pos;
  st.has_logits = true;
}

std::span<const float> Model::decode(Sequence& seq, int32_t token) {
  Sequence* one[1] = {&seq};
  decode_batch(one, std::span<const int32_t>(&token, 1));
  return seq.logits();
}

void Model::decode_batch(std::span<Sequence* const> seqs, std::span<const int32_t> tokens) {
  ModelImpl& m = *impl_;
  const int64_t H = m.parts.decoder.hidden_size;
  const int64_t V = m.parts.decoder.vocab_size;
  if (seqs.size() != tokens.size()) {
    fail(ErrorKind::kInvalidArgument, "decode_batch: ", seqs.size(), " sequences but ",
         tokens.size(), " tokens");
  }
  // Validate everything before touching any state.
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (!seqs[i]) fail(ErrorKind::kInvalidArgument, "decode_batch: null sequence");
    const SequenceState& st = seqs[i]->state();
    if (st.owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
    if (st.length + 1 > st.capacity) {
      fail(ErrorKind::kTooLarge, "sequence is full (", st.capacity, " tokens of context)");
    }
    if (tokens[i] < 0 || tokens[i] >= V) {
      fail(ErrorKind::kInvalidArgument, "token id ", tokens[i], " is outside the vocabulary (0..",
           V - 1, ")");
    }
    for (size_t j = 0; j < i; ++j) {
      if (seqs[j] == seqs[i]) fail(ErrorKind::kInvalidArgument, "decode_batch: repeated sequence");
    }
  }
  if (m.pos_t.size() < static_cast<size_t>(kMaxBatchRows)) {
    m.pos_t.resize(kMaxBatchRows);
    m.pos_h.resize(kMaxBatchRows);
    m.pos_w.resize(kMaxBatchRows);
    m.decode_batch.segments.reserve(kMaxBatchRows);
  }
  blocks::DecoderScratch& s = m.scratch;
  blocks::DecoderBatch& batch = m.decode_batch;
  const int64_t total = static_cast<int64_t>(seqs.size());
  for (int64_t g0 = 0; g0 < total; g0 += kMaxBatchRows) {
    const int64_t gn = std::min(kMaxBatchRows, total - g0);
    batch.n_rows = gn;
    batch.segments.clear();
    for (int64_t r = 0; r < gn; ++r) {
      SequenceState& st = seqs[g0 + r]->state();
      m.decoder.embed(tokens[g0 + r], s.x.data() + r * H);
      // Every family continues text positions one per token on all axes.
      m.pos_t[r] = m.pos_h[r] = m.pos_w[r] = st.next_pos;
      batch.segments.push_back({&*st.cache, st.length, 1, r});
    }
    batch.pos_t = m.pos_t.data();
    batch.pos_h = m.pos_h.data();
    batch.pos_w = m.pos_w.data();
    m.decoder.forward(batch, s, &m.pool, {});
    for (int64_t r0 = 0; r0 < gn; r0 += kLogitRows) {
      const int64_t rn = std::min(kLogitRows, gn - r0);
      if (rn == 1) {  // straight into the sequence's buffer
        m.decoder.lm_head(s.normed.data() + r0 * H, 1, seqs[g0 + r0]->state().logits.data(),
                          &m.pool);
        continue;
      }
      m.decoder.lm_head(s.normed.data() + r0 * H, rn, m.logits_scratch.data(), &m.pool);
      for (int64_t r = 0; r < rn; ++r) {
        std::copy_n(m.logits_scratch.data() + r * V, V, seqs[g0 + r0 + r]->state().logits.data());
      }
    }
    for (int64_t r = 0; r < gn; ++r) {
      SequenceState& st = seqs[g0 + r]->state();
      st.length += 1;
      st.next_pos += 1;
      st.has_logits = true;
    }
  }
}

}  // namespace kantu::models
