// The vision tower of the Qwen-VL families, one forward for all three as typed config:
//   patch embedding (a Conv3d over one patch = a linear layer; bias in Qwen3-VL)
//   + a learned position table resampled to the grid (Qwen3-VL)
//   -> blocks with 2-D rope (LayerNorm + GELU MLP: Qwen2-VL QuickGELU, Qwen3-VL tanh;
//      RMSNorm + SwiGLU with biases: Qwen2.5-VL), attention per image and temporal slice,
//      or per window outside `fullatt_block_indexes` (Qwen2.5-VL)
//   -> DeepStack mergers after some blocks (Qwen3-VL) and the final patch merger.
// Inputs are the processor's patches in merge-window order; outputs are merged tokens in
// the same (natural) order, whatever order the windows used inside.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "models/blocks/binder.h"
#include "models/blocks/encoder_block.h"
#include "models/blocks/patch_merger.h"
#include "models/model.h"

namespace kantu::models::blocks {

struct QwenVisionConfig {
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t depth = 0;
  int64_t num_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_heads, a multiple of 4 (2-D rope)
  int64_t in_channels = 3;
  int64_t patch_size = 0;
  int64_t temporal_patch_size = 2;
  int64_t spatial_merge_size = 2;
  int64_t out_hidden_size = 0;  // = the text model's hidden size
  NormKind norm = NormKind::kLayer;
  float norm_eps = 1e-6f;       // hard-coded in transformers for all three
  MlpSpec mlp{MlpKind::kPlain, Activation::kGeluTanh};
  bool patch_bias = false;
  int64_t pos_grid_side = 0;    // learned position table side; 0: none
  int64_t window = 0;           // windows of this many merged tokens per side; 0: none
  std::vector<int64_t> fullatt_block_indexes;  // blocks with full attention when windowed
  NormKind merger_norm = NormKind::kLayer;
  std::vector<int64_t> deepstack_visual_indexes;  // blocks feeding DeepStack mergers

  int64_t patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
  int64_t merge_unit() const { return spatial_merge_size * spatial_merge_size; }
  EncoderBlockSpec block_spec() const;
  MergerSpec merger_spec(bool deepstack) const;
};

struct QwenVisionWeights {
  Linear patch_embed;            // [hidden, C*T*P*P] (+ [hidden])
  std::vector<float> pos_embed;  // [side*side, hidden] f32, row = r*side + c; or empty
  std::vector<EncoderBlockWeights> blocks;
  MergerWeights merger;
  std::vector<MergerWeights> deepstack;  // one per deepstack_visual_indexes entry
};

// Validates the inputs (non-null pixels, grids positive and divisible by the merge size,
// total patches within kMaxVisionPatches) and runs the tower. Named intermediates go to
// `dumps` (see model.h; windowed towers add "vision.window_index",
// "vision.block_out_natural.<i>" and hold "vision.block_out.<i>" in window order).
VisionOutput qwen_vision_forward(const QwenVisionConfig& config, const QwenVisionWeights& weights,
                                 const std::vector<VisualInput>& images, ThreadPool* pool,
                                 Dumps* dumps);
// The same in pieces of encoder blocks (Model::begin_encode): the patch embedding and
// positions run here, the blocks in ImageEncoding::step, the mergers after the last.
// config and weights must outlive it.
std::unique_ptr<ImageEncoding> qwen_vision_begin(const QwenVisionConfig& config,
                                                 const QwenVisionWeights& weights,
                                                 const std::vector<VisualInput>& images,
                                                 ThreadPool* pool, Dumps* dumps);

// The matrices --vision-weights converts: "vision.patch_embed", "vision.blocks.<i>.qkv",
// ".proj", ".fc1"/".fc2" (or ".gate"/".up"/".down"), "vision.merger.fc1" …
void qwen_vision_matrices(QwenVisionWeights& w, std::vector<NamedMatrix>& out);
// Multiply-adds of the tower (see ModelCosts).
void add_qwen_vision_costs(const QwenVisionConfig& c, const QwenVisionWeights& w, ModelCosts& out);
// What qwen_vision_forward allocates at its peak for `patches` patches in all (see
// VisionEncoder::scratch_bytes), counted from the buffers it keeps: a little more than
// it holds at any one moment.
size_t qwen_vision_scratch_bytes(const QwenVisionConfig& c, int64_t patches);

// The largest total patch count one encode call accepts (memory is O(N * hidden) plus
// attention scratch per image).
inline constexpr int64_t kMaxVisionPatches = 1 << 16;

}  // namespace kantu::models::blocks
