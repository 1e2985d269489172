// LLaVA's vision side as a family VisionEncoder: every tile of every image through the CLIP
// tower (blocks/clip_vision.h), the configured hidden state(s) (CLS dropped by the
// "default" strategy), the 2-layer projector (linear -> GELU -> linear), and for LLaVA-NeXT
// the anyres packing with image_newline (anyres_pack.h). Inputs are the processor's tiles
// (VisualInput grid = (tiles, S/p, S/p), image size for NeXT); outputs one row per image
// token, which replace the prompt's <image> tokens in order.
#pragma once

#include <vector>

#include "models/blocks/clip_vision.h"
#include "models/blocks/mlp.h"
#include "models/family.h"
#include "formats/llava_config.h"

namespace kantu::models::llava {

using kantu::llava::Config;
using kantu::llava::TextConfig;
using kantu::llava::VisionConfig;

// An activation named in the config, or Error(kUnsupported) naming the field.
blocks::Activation activation_of(const std::string& name, const char* field);

struct VisionWeights {
  blocks::ClipVisionWeights clip;
  blocks::MlpWeights projector;      // up = linear_1 [text, in], down = linear_2 [text, text]
  std::vector<float> image_newline;  // [text hidden], LLaVA-NeXT
};

blocks::ClipVisionConfig clip_config(const VisionConfig& v);

class LlavaVisionEncoder final : public VisionEncoder {
 public:
  LlavaVisionEncoder(Config config, VisionWeights weights);

  VisionOutput encode(const std::vector<VisualInput>& images, ThreadPool* pool,
                      Dumps* dumps) const override;
  void matrices(std::vector<blocks::NamedMatrix>& out) override;
  void add_costs(ModelCosts& costs) const override;
  int64_t patch_size() const override { return config_.vision.patch_size; }
  int64_t temporal_patch_size() const override { return 1; }
  int64_t merge_size() const override { return 1; }
  int64_t patch_dim() const override { return config_.vision.patch_dim(); }
  size_t scratch_bytes(int64_t patches) const override;

 private:
  // Tiles of all images checked, and their total.
  int64_t check_inputs(const std::vector<VisualInput>& images) const;

  Config config_;
  blocks::ClipVisionConfig clip_;
  blocks::Activation projector_act_;
  VisionWeights weights_;
};

// The largest tile count one encode call accepts (memory grows with tiles x 577 x hidden).
inline constexpr int64_t kMaxTiles = 64;

}  // namespace kantu::models::llava
