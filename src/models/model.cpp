#include "models/model.h"

#include <algorithm>

#include "core/error.h"
#include "formats/model_folder.h"
#include "kernels/quant.h"
#include "models/blocks/positions.h"
#include "models/model_impl.h"

namespace kantu::models {


namespace {

const Family& family_of(const ModelFolder& model) { return family_for(model.family()); }

// --weights / --vision-weights: every matrix of the language model (attention, MLP,
// lm_head) to options.text and of the vision encoder to options.vision, skipping those
// already in a block type or whose columns are not whole blocks (they stay as stored).
// Types left as kBF16 convert nothing.
std::vector<MatrixConversion> plan_conversions(FamilyModel& parts, const WeightOptions& options) {
  std::vector<MatrixConversion> plan;
  auto add = [&](const blocks::NamedMatrix& named, DType target) {
    kernels::WeightMatrix& m = *named.matrix;
    if (target == DType::kBF16 || !kernels::can_quantize_to(target)) return;
    const bool plain = m.dtype == DType::kF32 || m.dtype == DType::kF16 || m.dtype == DType::kBF16;
    if (!plain || m.rows == 0 || m.cols % dtype_block_elems(target) != 0) return;
    plan.push_back({named.name, &m, target});
  };
  std::vector<blocks::NamedMatrix> vision, text;
  if (parts.vision) parts.vision->matrices(vision);
  blocks::decoder_matrices(parts.text, text);
  for (const auto& m : vision) add(m, options.vision);
  for (const auto& m : text) add(m, options.text);
  return plan;
}

// --activations: the precision of every matrix product (the matrices --weights converts, as
// they are after converting), carried by the matrices down to kernels::matmul.
void set_activations(FamilyModel& parts, const WeightOptions& options) {
  std::vector<blocks::NamedMatrix> all;
  if (parts.vision) parts.vision->matrices(all);
  blocks::decoder_matrices(parts.text, all);
  for (const auto& named : all)
    named.matrix->activations = options.activations.value_or(default_activations(named.matrix->dtype));
}

}  // namespace

ModelImpl::ModelImpl(ModelFolder&& model, const LoadOptions& options)
    : folder(model.dir()),
      profile(family_of(model).profile(model)),
      store(model.take_weights()),
      parts(family_of(model).build(model, store)),
      decoder(parts.decoder, parts.text),
      pool(options.threads) {
  for (const auto& [name, view] : store.tensors()) weight_bytes += view->nbytes;
  convert_weights_for(options.weights);
  set_activations(parts, options.weights);
  scratch.allocate(parts.decoder, kMaxBatchRows);
  logits_scratch.assign(kLogitRows * parts.decoder.vocab_size, 0.0f);
}

void ModelImpl::convert_weights_for(const WeightOptions& types) {
  std::vector<MatrixConversion> plan = plan_conversions(parts, types);
  if (plan.empty()) return;
  CacheRequest request;
  request.model_path = folder;
  request.source_files = store.files();  // the files really loaded (GGUF pair or shards)
  request.cache_dir = types.cache_dir;
  request.tag = std::string(weight_type_name(types.text)) + "-" + weight_type_name(types.vision);
  // The converted matrices replace their originals, which stay mapped but unread; a tied
  // head's original is the embedding table, which is still read.
  auto matrix_bytes = [](const kernels::WeightMatrix& m) { return dtype_bytes(m.dtype, m.rows * m.cols); };
  for (const MatrixConversion& c : plan)
    if (c.matrix->data != parts.text.embed_tokens.data) weight_bytes -= matrix_bytes(*c.matrix);
  converted = convert_weights(plan, request, &pool);
  for (const MatrixConversion& c : plan) weight_bytes += matrix_bytes(*c.matrix);
}

DType parse_weight_type(const std::string& name, const char* option) {
  if (name == "bf16") return DType::kBF16;
  if (name == "q8") return DType::kQ8_0;
  if (name == "q4") return DType::kQ4_0;
  fail(ErrorKind::kInvalidArgument, option, " ", name, ": expected bf16, q8 or q4");
}

kernels::Activations default_activations(DType weights) {
  return dtype_is_quantized(weights) ? kernels::Activations::kInt8 : kernels::Activations::kF32;
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

VisualInput visual_input(const PreprocessedImage& image) {
  VisualInput in;
  in.pixel_values = image.pixel_values.data();
  in.grid = {image.grid.t, image.grid.h, image.grid.w};
  in.image_height = image.image_height;
  in.image_width = image.image_width;
  return in;
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
  state_->cache->clear();
  state_->length = 0;
  state_->next_pos = 0;
  state_->has_logits = false;
}
size_t Sequence::memory_bytes() const {
  return state_->cache->bytes() + state_->logits.size() * sizeof(float);
}

// ---- Model ----

Model::Model(std::unique_ptr<ModelImpl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& folder, const LoadOptions& options) {
  return load(ModelFolder::open(folder), options);
}

std::unique_ptr<Model> Model::load(ModelFolder&& model, const LoadOptions& options) {
  return std::unique_ptr<Model>(new Model(std::make_unique<ModelImpl>(std::move(model), options)));
}

const ModelProfile& Model::profile() const { return impl_->profile; }
const std::string& Model::folder() const { return impl_->folder; }
ThreadPool& Model::pool() { return impl_->pool; }
int64_t Model::vocab_size() const { return impl_->parts.decoder.vocab_size; }
int64_t Model::hidden_size() const { return impl_->parts.decoder.hidden_size; }
int64_t Model::max_context() const { return impl_->parts.decoder.max_position_embeddings; }
const std::vector<int32_t>& Model::eos_ids() const { return impl_->parts.eos_ids; }
int32_t Model::image_token_id() const { return impl_->parts.image_token_id; }
int32_t Model::video_token_id() const { return impl_->parts.video_token_id; }
int32_t Model::vision_start_token_id() const { return impl_->parts.vision_start_token_id; }
int32_t Model::vision_end_token_id() const { return impl_->parts.vision_end_token_id; }
bool Model::has_vision() const { return impl_->parts.vision != nullptr; }
int64_t Model::patch_size() const { return has_vision() ? impl_->parts.vision->patch_size() : 0; }
int64_t Model::temporal_patch_size() const {
  return has_vision() ? impl_->parts.vision->temporal_patch_size() : 0;
}
int64_t Model::merge_size() const { return has_vision() ? impl_->parts.vision->merge_size() : 0; }
int64_t Model::patch_dim() const { return has_vision() ? impl_->parts.vision->patch_dim() : 0; }

double ModelCosts::prefill_macs(int64_t n, int64_t cached) const {
  const double nd = static_cast<double>(n);
  const double pairs = nd * static_cast<double>(cached) + nd * (nd + 1) / 2;  // causal
  return text_macs_per_token * nd + lm_head_macs + 2 * pairs * text_attention_width;
}

double ModelCosts::image_macs(int64_t patches) const {
  const double p = static_cast<double>(patches);
  const double span = vision_attention_span > 0 ? std::min(p, static_cast<double>(vision_attention_span)) : p;
  return vision_macs_per_patch * p + vision_macs_per_token * p / vision_merge_unit +
         2 * p * span * vision_attention_width;
}

ModelCosts Model::costs() const {
  ModelCosts c;
  const blocks::DecoderWeights& t = impl_->parts.text;
  auto bytes = [](const kernels::WeightMatrix& w) {
    return static_cast<double>(dtype_bytes(w.dtype, w.rows * w.cols));
  };
  auto macs = [](const kernels::WeightMatrix& w) { return static_cast<double>(w.rows * w.cols); };
  for (const blocks::DecoderLayerWeights& l : t.layers) {
    for (const blocks::Linear* w : {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.mlp.gate,
                                    &l.mlp.up, &l.mlp.down}) {
      c.decode_weight_bytes += bytes(w->w);
      c.text_macs_per_token += macs(w->w);
    }
  }
  c.decode_weight_bytes += bytes(t.lm_head);
  c.lm_head_macs = macs(t.lm_head);
  const blocks::DecoderConfig& d = impl_->parts.decoder;
  c.text_attention_width = static_cast<double>(d.num_layers * d.num_heads * d.head_dim);
  if (!t.layers.empty()) c.text_activations = kernels::effective_activations(t.layers[0].mlp.gate.w);
  if (impl_->parts.vision) {
    impl_->parts.vision->add_costs(c);
    std::vector<blocks::NamedMatrix> vision;
    impl_->parts.vision->matrices(vision);
    const kernels::WeightMatrix* largest = nullptr;
    for (const auto& named : vision)
      if (largest == nullptr || named.matrix->rows * named.matrix->cols > largest->rows * largest->cols)
        largest = named.matrix;
    if (largest != nullptr) c.vision_activations = kernels::effective_activations(*largest);
  }
  return c;
}

VisionOutput Model::encode_images(const std::vector<VisualInput>& images, Dumps* dumps) {
  if (!impl_->parts.vision) {
    fail(ErrorKind::kInvalidArgument, impl_->folder,
         " is a text-only model: images need its vision projector (--mmproj FILE.gguf)");
  }
  return impl_->parts.vision->encode(images, &impl_->pool, dumps);
}

namespace {

// A tower that cannot be split: encoded whole when the encoding begins.
class EncodedWhole final : public ImageEncoding {
 public:
  explicit EncodedWhole(VisionOutput out) : out_(std::move(out)) {}
  bool step(int64_t) override { return true; }
  bool done() const override { return true; }
  VisionOutput take() override { return std::move(out_); }

 private:
  VisionOutput out_;
};

}  // namespace

std::unique_ptr<ImageEncoding> VisionEncoder::begin(const std::vector<VisualInput>& images,
                                                    ThreadPool* pool) const {
  return std::make_unique<EncodedWhole>(encode(images, pool, nullptr));
}

std::unique_ptr<ImageEncoding> Model::begin_encode(const std::vector<VisualInput>& images) {
  if (!impl_->parts.vision) {
    fail(ErrorKind::kInvalidArgument, impl_->folder,
         " is a text-only model: images need its vision projector (--mmproj FILE.gguf)");
  }
  return impl_->parts.vision->begin(images, &impl_->pool);
}

size_t Model::weight_bytes() const { return impl_->weight_bytes; }

size_t Model::working_bytes() const {
  return impl_->scratch.bytes() + impl_->logits_scratch.size() * sizeof(float);
}

size_t Model::encode_bytes(int64_t patches) const {
  if (!impl_->parts.vision || patches <= 0) return 0;
  return static_cast<size_t>(patches * impl_->parts.vision->patch_dim()) * sizeof(float) +
         impl_->parts.vision->scratch_bytes(patches);
}

size_t Model::vision_output_bytes(int64_t tokens) const {
  if (!impl_->parts.vision || tokens <= 0) return 0;
  const int64_t rows = tokens * (1 + impl_->parts.vision->deepstack_levels());
  return static_cast<size_t>(rows * hidden_size()) * sizeof(float);
}

size_t Model::sequence_bytes(int64_t context_length) const {
  return blocks::KvCache::bytes_for(impl_->kv_shape(), context_length) +
         static_cast<size_t>(impl_->parts.decoder.vocab_size) * sizeof(float);
}

int64_t Model::kv_block_tokens() const { return impl_->kv_shape().block_tokens; }
size_t Model::kv_block_bytes() const { return blocks::KvBlock::bytes_for(impl_->kv_shape()); }

KvBlockPtr Model::share_kv_block(const Sequence& seq, int64_t i) const {
  if (seq.state().owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
  return seq.state().cache->block(i);
}

void Model::attach_kv(Sequence& seq, std::span<const KvBlockPtr> blocks, int64_t tokens) {
  SequenceState& st = seq.state();
  if (st.owner != impl_.get()) fail(ErrorKind::kInvalidArgument, "sequence of another model");
  if (st.length != 0) fail(ErrorKind::kInvalidArgument, "attach_kv: the sequence is not empty");
  try {
    st.cache->attach(blocks, tokens);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kTooLarge, "not enough memory to copy a KV block");
  }
  st.length = tokens;
  st.next_pos = 0;  // set by the prefill that continues the prompt
  st.has_logits = false;
}

std::unique_ptr<Sequence> Model::new_sequence(int64_t context_length) {
  const blocks::DecoderConfig& d = impl_->parts.decoder;
  if (context_length <= 0 || context_length > max_context()) {
    fail(ErrorKind::kInvalidArgument, "context length ", context_length,
         " must be between 1 and the model's max_position_embeddings (", max_context(), ")");
  }
  auto st = std::make_unique<SequenceState>();
  st->capacity = context_length;
  st->cache.emplace(impl_->kv_shape(), context_length);  // blocks come as it grows
  try {
    st->logits.assign(d.vocab_size, 0.0f);
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::kTooLarge, "not enough memory for a sequence of ", context_length, " tokens");
  }
  st->owner = impl_.get();
  return std::unique_ptr<Sequence>(new Sequence(std::move(st)));
}

}  // namespace kantu::models
