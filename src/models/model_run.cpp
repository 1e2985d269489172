// Model::layout_prompt, Model::prefill(_chunk) and Model::decode_batch: token rows through the family's decoder, with
// the visual rows spliced in and positions from the family's position scheme.
#include <algorithm>

#include "core/error.h"
#include "models/blocks/positions.h"
#include "models/model.h"
#include "models/model_impl.h"

namespace kantu::models {

namespace {

void dump_positions(Dumps* dumps, const PromptLayout& prompt, int64_t begin, int64_t n) {
  // Text dumps of an earlier prefill would have other row counts: start afresh.
  std::erase_if(*dumps, [](const auto& kv) { return kv.first.rfind("text.", 0) == 0; });
  DumpTensor& p = (*dumps)["text.position_ids"];
  p.shape = {3, n};
  p.data.resize(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    p.data[i] = float(prompt.pos_t[begin + i]);
    p.data[n + i] = float(prompt.pos_h[begin + i]);
    p.data[2 * n + i] = float(prompt.pos_w[begin + i]);
  }
}

// KV blocks for `rows` tokens, before any work: an allocation failure is a clean error.
void reserve_kv(SequenceState& st, int64_t rows) {
  try {
    st.cache->reserve(rows);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kTooLarge, "not enough memory for the KV cache of ", rows, " tokens");
  }
}

}  // namespace

std::vector<PromptVisual> prompt_visuals(const std::vector<const VisionOutput*>& vision) {
  std::vector<PromptVisual> items;
  for (const VisionOutput* vo : vision) {
    if (!vo) fail(ErrorKind::kInvalidArgument, "prefill: null vision output");
    if (vo->tokens_per_image.size() != vo->grids.size())
      fail(ErrorKind::kInvalidArgument, "prefill: vision output does not match this model");
    int64_t row = 0;
    for (size_t i = 0; i < vo->grids.size(); ++i) {
      PromptVisual item;
      item.grid = vo->grids[i];
      item.tokens = vo->tokens_per_image[i];
      if (i < vo->second_per_grid_t.size()) item.second_per_grid_t = vo->second_per_grid_t[i];
      item.vision = vo;
      item.first_row = row;
      items.push_back(item);
      row += item.tokens;
    }
    // An output without items still has to match the model (checked by layout_prompt).
    if (vo->grids.empty()) items.push_back({GridTHW{}, 0, 0, vo, 0});
  }
  return items;
}

PromptLayout Model::layout_prompt(std::span<const int32_t> ids,
                                  const std::vector<PromptVisual>& visuals,
                                  const Sequence* after) const {
  const ModelImpl& m = *impl_;
  const int64_t H = m.parts.decoder.hidden_size;
  const int64_t V = m.parts.decoder.vocab_size;
  if (after && after->state().owner != impl_.get())
    fail(ErrorKind::kInvalidArgument, "sequence of another model");
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) fail(ErrorKind::kInvalidArgument, "prefill: no tokens");
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= V) {
      fail(ErrorKind::kInvalidArgument, "token id ", ids[i], " at position ", i,
           " is outside the vocabulary (0..", V - 1, ")");
    }
  }
  const size_t n_levels = m.parts.vision ? m.parts.vision->deepstack_levels() : 0;
  std::vector<blocks::VisualItem> items;
  for (const PromptVisual& v : visuals) {
    if (const VisionOutput* vo = v.vision) {
      bool ok = vo->hidden == H && vo->embeds.size() == static_cast<size_t>(vo->n_tokens * H) &&
                vo->deepstack.size() == n_levels && v.first_row >= 0 &&
                v.first_row + v.tokens <= vo->n_tokens;
      for (const auto& level : vo->deepstack) ok = ok && level.size() == vo->embeds.size();
      if (!ok) fail(ErrorKind::kInvalidArgument, "prefill: vision output does not match this model");
    }
    items.push_back({v.grid, v.tokens, v.second_per_grid_t});
  }
  const int64_t start_pos = after ? after->state().next_pos : 0;
  blocks::PositionIds pos = blocks::compute_positions(m.parts.positions, ids, items, start_pos);

  PromptLayout p;
  p.ids.assign(ids.begin(), ids.end());
  p.pos_t = std::move(pos.t);
  p.pos_h = std::move(pos.h);
  p.pos_w = std::move(pos.w);
  p.visual.assign(n, 0);
  p.embed.assign(n, nullptr);
  p.deepstack.assign(n_levels, std::vector<const float*>(n, nullptr));
  p.base = after ? after->state().length : 0;
  p.next_pos = pos.next_pos;
  // Visual rows come in item order; item i owns the next visuals[i].tokens of them.
  size_t item = 0;
  int64_t row_in_item = 0;
  for (int64_t k : pos.visual_rows) {
    while (item < visuals.size() && row_in_item >= visuals[item].tokens) {
      ++item;
      row_in_item = 0;
    }
    KANTU_CHECK(item < visuals.size(), "visual row ", k, " has no item");
    p.visual[k] = 1;
    if (const VisionOutput* vo = visuals[item].vision) {
      const int64_t r = visuals[item].first_row + row_in_item;
      p.embed[k] = vo->embeds.data() + r * H;
      for (size_t l = 0; l < n_levels; ++l) p.deepstack[l][k] = vo->deepstack[l].data() + r * H;
    }
    ++row_in_item;
  }
  return p;
}

void Model::prefill(Sequence& seq, std::span<const int32_t> ids,
                    const std::vector<const VisionOutput*>& vision, const PrefillOptions& options) {
  const SequenceState& st = seq.state();
  if (st.owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n > 0 && st.length + n > st.capacity) {
    fail(ErrorKind::kTooLarge, "prompt of ", n, " tokens does not fit: the sequence holds ",
         st.length, " of ", st.capacity, " tokens of context");
  }
  const PromptLayout prompt = layout_prompt(ids, prompt_visuals(vision), &seq);
  prefill_chunk(seq, prompt, 0, prompt.size(), options);
}

void Model::prefill_chunk(Sequence& seq, const PromptLayout& prompt, int64_t begin, int64_t end,
                          const PrefillOptions& options) {
  ModelImpl& m = *impl_;
  SequenceState& st = seq.state();
  const int64_t H = m.parts.decoder.hidden_size;
  const int64_t V = m.parts.decoder.vocab_size;
  if (st.owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
  if (begin < 0 || end > prompt.size() || begin >= end) {
    fail(ErrorKind::kInvalidArgument, "prefill: chunk [", begin, ", ", end, ") of a prompt of ",
         prompt.size(), " tokens");
  }
  if (st.length != prompt.base + begin) {
    fail(ErrorKind::kInvalidArgument, "prefill: the chunk starts at prompt token ", begin,
         " but the sequence holds ", st.length, " tokens (the prompt starts after ", prompt.base,
         ")");
  }
  const int64_t n = end - begin;
  if (st.length + n > st.capacity) {
    fail(ErrorKind::kTooLarge, "prompt of ", n, " tokens does not fit: the sequence holds ",
         st.length, " of ", st.capacity, " tokens of context");
  }
  for (int64_t i = begin; i < end; ++i) {
    if (prompt.visual[i] && !prompt.embed[i]) {
      fail(ErrorKind::kInvalidArgument, "prefill: prompt token ", i,
           " is an image token without its image rows");
    }
  }
  reserve_kv(st, st.length + n);
  const size_t n_levels = prompt.deepstack.size();
  if (options.dumps) dump_positions(options.dumps, prompt, begin, n);
  if (options.all_logits) options.all_logits->assign(n * V, 0.0f);
  const bool ends_prompt = end == prompt.size();

  blocks::DecoderScratch& s = m.scratch;
  blocks::DecoderBatch batch;
  batch.deepstack.assign(n_levels, std::vector<const float*>(kMaxBatchRows, nullptr));
  st.has_logits = false;
  for (int64_t c0 = 0; c0 < n; c0 += kMaxBatchRows) {
    const int64_t cn = std::min(kMaxBatchRows, n - c0);
    const int64_t first = begin + c0;  // prompt index of this piece's first row
    batch.n_rows = cn;
    batch.pos_t = prompt.pos_t.data() + first;
    batch.pos_h = prompt.pos_h.data() + first;
    batch.pos_w = prompt.pos_w.data() + first;
    batch.segments = {blocks::DecoderSegment{&*st.cache, st.length, cn, 0}};
    for (int64_t r = 0; r < cn; ++r) {
      float* dst = s.x.data() + r * H;
      if (prompt.visual[first + r]) {
        std::copy_n(prompt.embed[first + r], H, dst);
      } else {
        m.decoder.embed(prompt.ids[first + r], dst);
      }
      for (size_t l = 0; l < n_levels; ++l) batch.deepstack[l][r] = prompt.deepstack[l][first + r];
    }
    m.decoder.forward(batch, s, &m.pool, {options.dumps, c0, n});
    st.length += cn;
    if (options.all_logits) {
      m.decoder.lm_head(s.normed.data(), cn, options.all_logits->data() + c0 * V, &m.pool);
    } else if (ends_prompt && c0 + cn == n) {
      m.decoder.lm_head(s.normed.data() + (cn - 1) * H, 1, st.logits.data(), &m.pool);
    }
  }
  if (options.all_logits && ends_prompt) {
    std::copy_n(options.all_logits->data() + (n - 1) * V, V, st.logits.data());
  }
  st.next_pos = ends_prompt ? prompt.next_pos : prompt.pos_t[end];
  st.has_logits = ends_prompt;
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
  for (Sequence* seq : seqs) reserve_kv(seq->state(), seq->state().length + 1);
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
