// The public face of the model layer: load a checkpoint of any registered family
// (Qwen3-VL, Qwen2.5-VL, Qwen2-VL, ...; models/families.h), encode images, and run the
// language model over sequences (prefill of a prompt chunk, one-token decode, and a
// batched decode over several sequences in one pass over the weights). What differs
// between families (vision tower, projector, positions, chat format, image processor
// settings, stop tokens) stays behind this interface: the layers above never ask which
// family they run.
//
// Thread contract: a Model is used by one thread at a time (the runtime's scheduler); it
// owns the compute thread pool and the activation scratch, so calls must not overlap.
// Sequences are plain state (KV cache + positions + logits) and can be kept, cleared and
// reused; a Sequence must only be used with the Model that created it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/ops.h"
#include "image/preprocess.h"
#include "text/chat.h"

namespace kantu {
class ModelFolder;
}  // namespace kantu

namespace kantu::models {

// The type the big matrices run in. kBF16 means "as stored" (no conversion); kQ8_0 and kQ4_0
// quantize the checkpoint's F32/F16/BF16 matrices at load, once: the result is cached on disk
// (see models/weight_cache.h) and memory-mapped on the next start.
struct WeightOptions {
  DType text = DType::kBF16;    // language model (incl. lm_head)
  DType vision = DType::kBF16;  // vision tower (patch embedding, blocks, mergers)
  std::string cache_dir;        // empty: <model>/.kantu if writable, else the user cache
  // --activations: the precision activations enter every matrix product in (see
  // kernels::Activations). Unset: default_activations of each matrix's type.
  std::optional<kernels::Activations> activations;
};

// The precision a matrix of type `weights` runs in when --activations is not given: f32 (the
// faithful path) for float weights, int8 for block-quantized ones (inside the q8 / q4
// accuracy budgets, tests/conformance/precision_test.cpp).
kernels::Activations default_activations(DType weights);

// "bf16" -> kBF16 (as stored), "q8" -> kQ8_0, "q4" -> kQ4_0; anything else is
// Error(kInvalidArgument) naming `option`.
DType parse_weight_type(const std::string& name, const char* option);
// The spelling parse_weight_type accepts ("bf16", "q8", "q4").
const char* weight_type_name(DType dtype);

struct LoadOptions {
  int threads = 0;  // compute threads (<= 0: one per core)
  WeightOptions weights;
};

// A grid of patches, in patch units (t = temporal patches, 1 for a still image).
struct GridTHW {
  int64_t t = 1, h = 0, w = 0;
  int64_t patches() const { return t * h * w; }
};

// One preprocessed image (or video): pixel_values in the processor's order (Qwen: patches
// in merge-window order, grid in patches; LLaVA: tiles [t, 3, S, S], grid (t, S/p, S/p)).
struct VisualInput {
  const float* pixel_values = nullptr;  // [grid.patches(), patch_dim] f32, row-major
  GridTHW grid;
  // Videos: seconds one temporal patch spans (temporal_patch_size / fps); Qwen2.5-VL
  // scales its temporal positions by it. Ignored for images (t = 1) and other families.
  double second_per_grid_t = 0;
  // The image before preprocessing (LLaVA-NeXT packs its tiles by it: image_sizes).
  int64_t image_height = 0, image_width = 0;
};

// The model input of a preprocessed image (its pixel values stay owned by `image`).
VisualInput visual_input(const PreprocessedImage& image);

// What the vision tower produces for a list of images, in order. Row i of `embeds`
// replaces the i-th <|image_pad|>/<|video_pad|> token of the prompt.
struct VisionOutput {
  std::vector<GridTHW> grids;             // per image, patch units
  std::vector<double> second_per_grid_t;  // per image, as given in VisualInput
  std::vector<int64_t> tokens_per_image;  // grid.patches() / merge^2
  int64_t n_tokens = 0;                   // sum of tokens_per_image
  int64_t hidden = 0;                     // text hidden size (= vision out_hidden_size)
  std::vector<float> embeds;              // [n_tokens, hidden]
  std::vector<std::vector<float>> deepstack;  // per deepstack level: [n_tokens, hidden]
};

// An encode_images call split into pieces, so that a server can run a large image's
// vision tower a few encoder blocks at a time between other streams' decode steps. The
// result equals encode_images' exactly (the same operations in the same order).
class ImageEncoding {
 public:
  virtual ~ImageEncoding() = default;
  // Runs up to `blocks` more encoder blocks (<= 0: all the rest), and the mergers after
  // the last; true once the output is ready.
  virtual bool step(int64_t blocks) = 0;
  virtual bool done() const = 0;
  // The output, once done (moved out: call once).
  virtual VisionOutput take() = 0;
};

// Named intermediates (for conformance tests and debugging), all float32 row-major.
// Vision: "vision.patch_embed_out", "vision.pos_embeds_interpolated", "vision.rot_pos_emb",
// "vision.block_out.<i>", "vision.deepstack.<k>", "vision.merger_out"; windowed towers
// (Qwen2.5-VL) also "vision.window_index", "vision.cu_window_seqlens" and
// "vision.cu_window_seqlens_before_unique" (as floats, [n, 1])
// and "vision.block_out_natural.<i>", with "vision.block_out.<i>" in window order.
// Text prefill: "text.position_ids" ([3, n] as floats), "text.layer_input.<i>",
// "text.layer_output_pre_deepstack.<i>", "text.hidden_states.<i>" (HF's hidden_states:
// entry 0 = embeddings, entry i = output of layer i-1 incl. deepstack), "text.final_norm".
struct DumpTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
using Dumps = std::map<std::string, DumpTensor>;

// What the matmuls of a model cost, for judging measured speed against the machine's peaks
// (kantu bench): weight bytes a decoded token reads, and multiply-adds (MACs).
struct ModelCosts {
  double decode_weight_bytes = 0;     // every text matrix incl. lm_head, in its run type
  double text_macs_per_token = 0;     // weight matmuls of one prefill token (no lm_head)
  double lm_head_macs = 0;            // once per prefill: only the last token's logits
  double text_attention_width = 0;    // layers x heads x head_dim: 2 MACs each per (query, key)
  double vision_macs_per_patch = 0;   // patch embedding + blocks, per patch
  double vision_macs_per_token = 0;   // merger + deepstack mergers, per merged token
  double vision_attention_width = 0;  // depth x hidden: 2 MACs each per (query, key)
  int64_t vision_merge_unit = 4;      // patches per merged token
  // The precision the largest matrices multiply in (what prefill / image encode run on).
  kernels::Activations text_activations = kernels::Activations::kF32;
  kernels::Activations vision_activations = kernels::Activations::kF32;
  int64_t vision_attention_span = 0;  // patches attending together (a LLaVA tile); 0: all

  // Prefill of n tokens after `cached` ones (causal attention included).
  double prefill_macs(int64_t n, int64_t cached = 0) const;
  // One image of `patches` patches (attention among each span of them included).
  double image_macs(int64_t patches) const;
};

// What the layers above need to know about a model's family, known from its files
// alone (no weights): how to render chat messages and how to preprocess images.
struct ModelProfile {
  std::string family;  // the model_type spelling, e.g. "qwen2_5_vl"
  // Null when the model has no chat template kantu renders; chat_format() then throws
  // the error that said why (tokenizing, preprocessing and `kantu info` work without).
  std::shared_ptr<const text::ChatFormat> chat;
  std::string chat_error;
  ErrorKind chat_error_kind = ErrorKind::kNotFound;
  // The image processor's settings: preprocessor_config.json (or the GGUF mmproj's
  // values) over the family's defaults.
  ImagePreprocessConfig image;
  bool has_vision = true;  // false: a GGUF text model without its mmproj

  const text::ChatFormat& chat_format() const;
};

// The profile of an opened model (a folder or a GGUF pair; weights need not be loaded).
// Error(kUnsupported) for a family kantu does not run, kCorrupt/kNotFound for bad files.
ModelProfile profile_of(const ModelFolder& model);

struct SequenceState;  // defined in the implementation
namespace blocks {
class KvBlock;
}
// Keys and values of a run of consecutive tokens of one sequence (every layer): the unit
// sequences share through a prefix cache. Opaque above this layer; what a holder may rely
// on is the rows below the length at which it was shared.
using KvBlockPtr = std::shared_ptr<const blocks::KvBlock>;

// One conversation's state: KV cache (f32 blocks of Model::kv_block_tokens() tokens,
// allocated as it grows up to max_context tokens, possibly shared with other sequences),
// the next text position, and the logits of the last processed token.
class Sequence {
 public:
  ~Sequence();
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  int64_t length() const;        // tokens held in the KV cache
  int64_t max_context() const;   // capacity in tokens
  int64_t next_position() const; // M-RoPE position the next text token will get
  int64_t rope_delta() const;    // next_position() - length() (HF's rope_deltas)
  // Logits of the last processed token [vocab]; empty before the first prefill.
  std::span<const float> logits() const;
  // Forgets every token (and lets go of its KV blocks) so the sequence can be reused.
  void clear();
  // Approximate bytes this sequence holds (KV blocks, shared ones in full, + logits).
  size_t memory_bytes() const;

  SequenceState& state() { return *state_; }
  const SequenceState& state() const { return *state_; }

 private:
  friend class Model;
  explicit Sequence(std::unique_ptr<SequenceState> state);
  std::unique_ptr<SequenceState> state_;
};

// One image (or video) of a prompt as prefill sees it: its grid, which fixes the
// positions of its pad tokens and of the text after it, and where its rows are. `vision`
// may be null when none of the item's tokens will be prefilled (a prefix cache holds them).
struct PromptVisual {
  GridTHW grid;
  int64_t tokens = 0;                    // its pad tokens (grid.patches() / merge^2)
  double second_per_grid_t = 0;          // videos (see VisualInput)
  const VisionOutput* vision = nullptr;  // holds the item's rows
  int64_t first_row = 0;                 // the item's first row in vision->embeds
};
// The items of encode_images results, in order (each output may hold several).
std::vector<PromptVisual> prompt_visuals(const std::vector<const VisionOutput*>& vision);

// A prompt laid out once for prefill: its ids, every token's position and, for visual pad
// tokens, the rows they take. It is prefilled whole or in consecutive chunks
// (Model::prefill_chunk), e.g. interleaved with other sequences' decode steps; its
// positions do not depend on how it is cut, and a chunk may end inside an image.
struct PromptLayout {
  std::vector<int32_t> ids;
  std::vector<int64_t> pos_t, pos_h, pos_w;  // per token (the family's position scheme)
  std::vector<uint8_t> visual;               // per token: 1 for an image/video pad
  std::vector<const float*> embed;           // per token: its visual row (null: text, or not given)
  std::vector<std::vector<const float*>> deepstack;  // [level][token]: feature row or null
  int64_t base = 0;      // tokens the sequence held before the prompt
  int64_t next_pos = 0;  // position of the first token after the prompt
  int64_t size() const { return static_cast<int64_t>(ids.size()); }
};

struct PrefillOptions {
  // Fill `all_logits` with [n_ids, vocab] (every prompt position), e.g. for --dump-logits.
  std::vector<float>* all_logits = nullptr;
  Dumps* dumps = nullptr;  // named text intermediates (see Dumps)
};

class ModelImpl;

class Model {
 public:
  // Opens the folder (ModelFolder::open), picks its family from config.json and maps the
  // safetensors weights. Errors name the file, field or tensor.
  static std::unique_ptr<Model> load(const std::string& folder, const LoadOptions& options = {});
  // An opened model (a Hugging Face folder or a GGUF pair, ModelFolder::open_any) with
  // its weights; they move into the model.
  static std::unique_ptr<Model> load(ModelFolder&& model, const LoadOptions& options = {});
  // False for a text-only model: encode_images then throws Error(kInvalidArgument).
  bool has_vision() const;
  ~Model();

  // The family's profile (chat format, image processor settings).
  const ModelProfile& profile() const;
  const std::string& family() const { return profile().family; }
  const std::string& folder() const;
  ThreadPool& pool();

  int64_t vocab_size() const;
  int64_t hidden_size() const;
  int64_t max_context() const;                 // max_position_embeddings
  const std::vector<int32_t>& eos_ids() const; // generation_config eos list (or config's)
  int32_t image_token_id() const;
  int32_t video_token_id() const;
  int32_t vision_start_token_id() const;
  int32_t vision_end_token_id() const;
  // Preprocessing parameters the vision tower expects (0 for a text-only model).
  int64_t patch_size() const;          // 16 (Qwen3-VL), 14 (Qwen2/2.5-VL)
  int64_t temporal_patch_size() const; // 2
  int64_t merge_size() const;          // 2
  int64_t patch_dim() const;           // in_channels * temporal * patch^2 = 1536
  // Costs of the weights as they run (after --weights conversion).
  ModelCosts costs() const;

  // Runs the vision tower over all images at once (block-diagonal attention per image
  // and temporal slice). Validates grids (positive, divisible by the merge size) first.
  VisionOutput encode_images(const std::vector<VisualInput>& images, Dumps* dumps = nullptr);
  // The same, in pieces (ImageEncoding::step). The pixel values are read here, before
  // this returns; the encoding must not outlive the model, and its steps are model calls
  // (one thread at a time). Towers that cannot be split run whole in here.
  std::unique_ptr<ImageEncoding> begin_encode(const std::vector<VisualInput>& images);

  // Memory, for admission control (a server's plan of what it may allocate):
  // the weights as they run: the checkpoint's tensors, with converted matrices (--weights
  // q8/q4) counted in their new type instead of their original one;
  size_t weight_bytes() const;
  // the buffers the model keeps for its own work (prefill and decode activations, logits);
  size_t working_bytes() const;
  // the peak of encoding images of `patches` patches in all: their pixel values and the
  // vision tower's activations and outputs (0 for a text-only model).
  size_t encode_bytes(int64_t patches) const;
  // what the vision outputs of `tokens` image tokens hold (the embedding rows and each
  // DeepStack level's) until the prefill.
  size_t vision_output_bytes(int64_t tokens) const;

  // A new empty sequence with a KV cache for `context_length` tokens (<= max_context()).
  std::unique_ptr<Sequence> new_sequence(int64_t context_length);
  // Bytes a sequence of `context_length` tokens allocates at most (for admission control).
  size_t sequence_bytes(int64_t context_length) const;

  // Sharing keys and values between sequences (runtime/prefix_cache.h). A sequence keeps
  // them in blocks of kv_block_tokens() tokens; block i holds its tokens [i*B, (i+1)*B).
  int64_t kv_block_tokens() const;
  size_t kv_block_bytes() const;
  // Block i of `seq`, to keep after the sequence is gone: its rows below seq.length()
  // never change (the sequence only writes after its length).
  KvBlockPtr share_kv_block(const Sequence& seq, int64_t i) const;
  // Starts an empty sequence with the first `tokens` tokens of the sequence these blocks
  // came from (in order): whole blocks are shared, not copied; a partly used last block is
  // copied. Blocks of another model are refused. Positions are not restored: continue
  // with prefill_chunk of a prompt laid out from token 0, from token `tokens` on.
  void attach_kv(Sequence& seq, std::span<const KvBlockPtr> blocks, int64_t tokens);

  // Appends `ids` to the sequence and runs them through the language model. The visual
  // pad tokens among `ids` take the rows of `vision` in order (the list may hold several
  // encode_images results; their token counts must match the pads exactly). 3-D M-RoPE
  // positions continue from seq.next_position() exactly like HF get_rope_index. Refuses
  // (kTooLarge) before any work if the sequence would exceed its context. Afterwards
  // seq.logits() holds the logits of the last id. (layout_prompt + one prefill_chunk.)
  void prefill(Sequence& seq, std::span<const int32_t> ids,
               const std::vector<const VisionOutput*>& vision = {},
               const PrefillOptions& options = {});

  // Lays out `ids` for prefill: positions (continuing `after`, a sequence the prompt will be
  // appended to, or from 0) and the rows of its visual pad tokens, which must match the
  // items' token counts exactly. Bad ids or items are Error(kInvalidArgument).
  PromptLayout layout_prompt(std::span<const int32_t> ids, const std::vector<PromptVisual>& visuals,
                             const Sequence* after = nullptr) const;
  // Appends tokens [begin, end) of a laid-out prompt; the sequence must hold exactly the
  // tokens before them (prompt.base + begin). The chunk that ends the prompt leaves the
  // logits of its last token in seq.logits(); earlier chunks compute none. Options apply
  // to the chunk's rows. Refuses (kTooLarge) before any work if the sequence would
  // exceed its context.
  void prefill_chunk(Sequence& seq, const PromptLayout& prompt, int64_t begin, int64_t end,
                     const PrefillOptions& options = {});

  // Appends one text token; returns seq.logits().
  std::span<const float> decode(Sequence& seq, int32_t token);
  // One decode step for several sequences at once (one pass over the weights): appends
  // tokens[i] to *seqs[i]; afterwards seqs[i]->logits() holds its logits. Sequences must
  // be distinct.
  void decode_batch(std::span<Sequence* const> seqs, std::span<const int32_t> tokens);

 private:
  explicit Model(std::unique_ptr<ModelImpl> impl);
  std::unique_ptr<ModelImpl> impl_;
};

}  // namespace kantu::models
