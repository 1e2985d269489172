#include "models/model.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "formats/model_folder.h"
#include "formats/weight_store.h"
#include "models/qwen3vl/config.h"
#include "models/qwen3vl/positions.h"
#include "models/qwen3vl/text.h"
#include "models/qwen3vl/vision.h"
#include "models/qwen3vl/weight_plan.h"
#include "models/qwen3vl/weights.h"
#include "models/model_costs.h"
#include "models/weight_cache.h"

namespace kantu::models {

// Rows one text forward handles at once: prefill is split into chunks of this size and a
// batched decode step into groups of this many sequences.
constexpr int64_t kMaxBatchRows = 256;
// Rows of logits a batched decode computes per pass over lm_head (the largest matrix:
// one pass serves this many sequences).
constexpr int64_t kLogitRows = 8;

class ModelImpl {
 public:
  ModelImpl(const std::string& folder, const LoadOptions& options)
      : folder_(folder),
        config_(qwen3vl::load_config(folder)),
        store_(WeightStore::open_folder(folder)),
        weights_(qwen3vl::bind_weights(store_, config_)),
        text_(config_, weights_.text),
        pool_(options.threads) {
    init(options);
  }
  // An opened model (a folder or a GGUF pair); its weights move into the model.
  ModelImpl(ModelFolder&& model, const LoadOptions& options)
      : folder_(model.dir()),
        config_(qwen3vl::config_of(model)),
        store_(model.take_weights()),
        weights_(qwen3vl::bind_weights(store_, config_)),
        text_(config_, weights_.text),
        pool_(options.threads) {
    init(options);
  }

  void init(const LoadOptions& options) {
    convert_weights_for(options.weights);
    for (int64_t id : config_.eos_token_ids) eos_.push_back(static_cast<int32_t>(id));
    scratch_.allocate(config_.text, kMaxBatchRows);
    logits_scratch_.assign(kLogitRows * config_.text.vocab_size, 0.0f);
  }

  // --weights / --vision-weights: rebinds matrices of weights_ to converted (cached) copies.
  // text_ reads weights_ by reference at call time, so rebinding here is seen everywhere.
  void convert_weights_for(const WeightOptions& types) {
    std::vector<MatrixConversion> plan = qwen3vl::plan_conversions(weights_, types);
    if (plan.empty()) return;
    CacheRequest request;
    request.model_path = folder_;
    request.source_files = store_.files();  // the files really loaded (GGUF pair or shards)
    request.cache_dir = types.cache_dir;
    request.tag = std::string(weight_type_name(types.text)) + "-" + weight_type_name(types.vision);
    converted_ = convert_weights(plan, request, &pool_);
  }

  std::string folder_;
  qwen3vl::Config config_;
  WeightStore store_;
  qwen3vl::Weights weights_;
  qwen3vl::TextModel text_;
  ThreadPool pool_;
  qwen3vl::TextScratch scratch_;
  std::vector<int32_t> eos_;
  // Per decode step (reused; sized to kMaxBatchRows at first use).
  std::vector<int64_t> pos_t_, pos_h_, pos_w_;
  qwen3vl::TextBatch decode_batch_;  // no deepstack during decode
  std::vector<float> logits_scratch_;  // [kLogitRows, vocab]
  std::unique_ptr<ConvertedWeights> converted_;  // backs the converted matrices
};

DType parse_weight_type(const std::string& name, const char* option) {
  if (name == "bf16") return DType::kBF16;
  if (name == "q8") return DType::kQ8_0;
  if (name == "q4") return DType::kQ4_0;
  fail(ErrorKind::kInvalidArgument, option, " ", name, ": expected bf16, q8 or q4");
}

const char* weight_type_name(DType dtype) {
  switch (dtype) {
    case DType::kQ8_0:
      return "q8";
    case DType::kQ4_0:
      return "q4";
    default:
      return "bf16";
  }
}

// ---- Sequence ----

Sequence::Sequence(std::unique_ptr<SequenceState> state) : state_(std::move(state)) {}
Sequence::~Sequence() = default;
int64_t Sequence::length() const { return state_->length; }
int64_t Sequence::max_context() const { return state_->capacity; }
int64_t Sequence::next_position() const { return state_->next_pos; }
int64_t Sequence::rope_delta() const { return state_->next_pos - state_->length; }
std::span<const float> Sequence::logits() const {
  if (!state_->has_logits) return {};
  return {state_->logits.data(), state_->logits.size()};
}
void Sequence::clear() {
  state_->length = 0;
  state_->next_pos = 0;
  state_->has_logits = false;
}
size_t Sequence::memory_bytes() const {
  return (state_->k_cache.size() + state_->v_cache.size() + state_->logits.size()) * sizeof(float);
}

// ---- Model ----

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& folder, const LoadOptions& options) {
  return std::unique_ptr<Model>(new Model(std::make_unique<ModelImpl>(folder, options)));
}

std::unique_ptr<Model> Model::load(ModelFolder&& model, const LoadOptions& options) {
  return std::unique_ptr<Model>(new Model(std::make_unique<ModelImpl>(std::move(model), options)));
}

const qwen3vl::Config& Model::config() const { return impl_->config_; }
const std::string& Model::folder() const { return impl_->folder_; }
ThreadPool& Model::pool() { return impl_->pool_; }
int64_t Model::vocab_size() const { return impl_->config_.text.vocab_size; }
int64_t Model::hidden_size() const { return impl_->config_.text.hidden_size; }
int64_t Model::max_context() const { return impl_->config_.text.max_position_embeddings; }
const std::vector<int32_t>& Model::eos_ids() const { return impl_->eos_; }
int32_t Model::image_token_id() const { return static_cast<int32_t>(impl_->config_.image_token_id); }
int32_t Model::video_token_id() const { return static_cast<int32_t>(impl_->config_.video_token_id); }
int32_t Model::vision_start_token_id() const {
  return static_cast<int32_t>(impl_->config_.vision_start_token_id);
}
int32_t Model::vision_end_token_id() const {
  return static_cast<int32_t>(impl_->config_.vision_end_token_id);
}
bool Model::has_vision() const { return impl_->config_.has_vision; }
ModelCosts Model::costs() const { return costs_of(impl_->config_, impl_->weights_); }
int64_t Model::patch_size() const { return impl_->config_.vision.patch_size; }
int64_t Model::temporal_patch_size() const { return impl_->config_.vision.temporal_patch_size; }
int64_t Model::merge_size() const { return impl_->config_.vision.spatial_merge_size; }
int64_t Model::patch_dim() const { return impl_->config_.vision.patch_dim(); }

VisionOutput Model::encode_images(const std::vector<VisualInput>& images, Dumps* dumps) {
  if (!impl_->config_.has_vision) {
    fail(ErrorKind::kInvalidArgument, impl_->folder_,
         " is a text-only model: images need its vision projector (--mmproj FILE.gguf)");
  }
  return qwen3vl::vision_forward(impl_->config_, impl_->weights_.vision, images, &impl_->pool_,
                                 dumps);
}

size_t Model::sequence_bytes(int64_t context_length) const {
  const auto& t = impl_->config_.text;
  return static_cast<size_t>(2 * t.num_layers * context_length * t.num_kv_heads * t.head_dim +
                             t.vocab_size) *
         sizeof(float);
}

std::unique_ptr<Sequence> Model::new_sequence(int64_t context_length) {
  const auto& t = impl_->config_.text;
  if (context_length <= 0 || context_length > max_context()) {
    fail(ErrorKind::kInvalidArgument, "context length ", context_length,
         " must be between 1 and the model's max_position_embeddings (", max_context(), ")");
  }
  auto st = std::make_unique<SequenceState>();
  st->capacity = context_length;
  st->n_layers = t.num_layers;
  st->kv_dim = t.num_kv_heads * t.head_dim;
  const size_t cache = static_cast<size_t>(t.num_layers * context_length * st->kv_dim);
  try {
    st->k_cache.assign(cache, 0.0f);
    st->v_cache.assign(cache, 0.0f);
    st->logits.assign(t.vocab_size, 0.0f);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kTooLarge, "not enough memory for a KV cache of ", context_length,
         " tokens (", sequence_bytes(context_length) >> 20, " MiB)");
  }
  st->owner = impl_.get();
  return std::unique_ptr<Sequence>(new Sequence(std::move(st)));
}

void Model::prefill(Sequence& seq, std::span<const int32_t> ids,
                    const std::vector<const VisionOutput*>& vision, const PrefillOptions& options) {
  ModelImpl& m = *impl_;
  SequenceState& st = seq.state();
  const auto& cfg = m.config_;
  const int64_t H = cfg.text.hidden_size;
  const int64_t V = cfg.text.vocab_size;
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

  // Visual rows in order of appearance across all vision outputs.
  std::vector<GridTHW> grids;
  std::vector<const float*> vis_embed;
  const size_t n_levels = cfg.vision.deepstack_visual_indexes.size();
  std::vector<std::vector<const float*>> vis_deep(n_levels);
  for (const VisionOutput* vo : vision) {
    if (!vo) fail(ErrorKind::kInvalidArgument, "prefill: null vision output");
    if (vo->hidden != H || vo->embeds.size() != static_cast<size_t>(vo->n_tokens * H) ||
        vo->deepstack.size() != n_levels) {
      fail(ErrorKind::kInvalidArgument, "prefill: vision output does not match this model");
    }
    grids.insert(grids.end(), vo->grids.begin(), vo->grids.end());
    for (int64_t r = 0; r < vo->n_tokens; ++r) {
      vis_embed.push_back(vo->embeds.data() + r * H);
      for (size_t l = 0; l < n_levels; ++l) vis_deep[l].push_back(vo->deepstack[l].data() + r * H);
    }
  }
  qwen3vl::PositionIds pos = qwen3vl::rope_index(ids, grids, st.next_pos, cfg);
  KANTU_CHECK(pos.visual_rows.size() == vis_embed.size(), "visual rows ", pos.visual_rows.size(),
              " vs vision tokens ", vis_embed.size());
  std::vector<int64_t> visual_index(n, -1);
  for (size_t k = 0; k < pos.visual_rows.size(); ++k) visual_index[pos.visual_rows[k]] = int64_t(k);

  if (options.dumps) {
    // Text dumps of an earlier prefill would have other row counts: start afresh.
    std::erase_if(*options.dumps, [](const auto& kv) { return kv.first.rfind("text.", 0) == 0; });
    DumpTensor& p = (*options.dumps)["text.position_ids"];
    p.shape = {3, n};
    p.data.resize(3 * n);
    for (int64_t i = 0; i < n; ++i) {
      p.data[i] = float(pos.t[i]);
      p.data[n + i] = float(pos.h[i]);
      p.data[2 * n + i] = float(pos.w[i]);
    }
  }
  if (options.all_logits) options.all_logits->assign(n * V, 0.0f);

  qwen3vl::TextScratch& s = m.scratch_;
  qwen3vl::TextBatch batch;
  batch.deepstack.assign(n_levels, std::vector<const float*>(kMaxBatchRows, nullptr));
  for (int64_t c0 = 0; c0 < n; c0 += kMaxBatchRows) {
    const int64_t cn = std::min(kMaxBatchRows, n - c0);
    batch.n_rows = cn;
    batch.pos_t = pos.t.data() + c0;
    batch.pos_h = pos.h.data() + c0;
    batch.pos_w = pos.w.data() + c0;
    batch.segments = {qwen3vl::Segment{&st, st.length, cn, 0}};
    for (int64_t r = 0; r < cn; ++r) {
      const int64_t vi = visual_index[c0 + r];
      float* dst = s.x.data() + r * H;
      if (vi >= 0) {
        std::copy_n(vis_embed[vi], H, dst);
      } else {
        m.text_.embed(ids[c0 + r], dst);
      }
      for (size_t l = 0; l < n_levels; ++l) batch.deepstack[l][r] = vi >= 0 ? vis_deep[l][vi] : nullptr;
    }
    m.text_.forward(batch, s, &m.pool_, {options.dumps, c0, n});
    st.length += cn;
    if (options.all_logits) {
      m.text_.lm_head(s.normed.data(), cn, options.all_logits->data() + c0 * V, &m.pool_);
    } else if (c0 + cn == n) {
      m.text_.lm_head(s.normed.data() + (cn - 1) * H, 1, st.logits.data(), &m.pool_);
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
  const auto& cfg = m.config_;
  const int64_t H = cfg.text.hidden_size;
  const int64_t V = cfg.text.vocab_size;
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
  if (m.pos_t_.size() < static_cast<size_t>(kMaxBatchRows)) {
    m.pos_t_.resize(kMaxBatchRows);
    m.pos_h_.resize(kMaxBatchRows);
    m.pos_w_.resize(kMaxBatchRows);
    m.decode_batch_.segments.reserve(kMaxBatchRows);
  }
  qwen3vl::TextScratch& s = m.scratch_;
  qwen3vl::TextBatch& batch = m.decode_batch_;
  const int64_t total = static_cast<int64_t>(seqs.size());
  for (int64_t g0 = 0; g0 < total; g0 += kMaxBatchRows) {
    const int64_t gn = std::min(kMaxBatchRows, total - g0);
    batch.n_rows = gn;
    batch.segments.clear();
    for (int64_t r = 0; r < gn; ++r) {
      SequenceState& st = seqs[g0 + r]->state();
      m.text_.embed(tokens[g0 + r], s.x.data() + r * H);
      m.pos_t_[r] = m.pos_h_[r] = m.pos_w_[r] = st.next_pos;
      batch.segments.push_back({&st, st.length, 1, r});
    }
    batch.pos_t = m.pos_t_.data();
    batch.pos_h = m.pos_h_.data();
    batch.pos_w = m.pos_w_.data();
    m.text_.forward(batch, s, &m.pool_, {});
    for (int64_t r0 = 0; r0 < gn; r0 += kLogitRows) {
      const int64_t rn = std::min(kLogitRows, gn - r0);
      if (rn == 1) {  // straight into the sequence's buffer
        m.text_.lm_head(s.normed.data() + r0 * H, 1, seqs[g0 + r0]->state().logits.data(),
                        &m.pool_);
        continue;
      }
      m.text_.lm_head(s.normed.data() + r0 * H, rn, m.logits_scratch_.data(), &m.pool_);
      for (int64_t r = 0; r < rn; ++r) {
        std::copy_n(m.logits_scratch_.data() + r * V, V,
                    seqs[g0 + r0 + r]->state().logits.data());
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
