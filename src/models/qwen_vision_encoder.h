// The Qwen-VL vision tower (blocks/qwen_vision.h) as a family's VisionEncoder; Qwen2-VL,
// Qwen2.5-VL and Qwen3-VL each configure it.
#pragma once

#include "models/blocks/qwen_vision.h"
#include "models/family.h"

namespace kantu::models {

class QwenVisionEncoder final : public VisionEncoder {
 public:
  QwenVisionEncoder(blocks::QwenVisionConfig config, blocks::QwenVisionWeights weights)
      : config_(std::move(config)), weights_(std::move(weights)) {}

  VisionOutput encode(const std::vector<VisualInput>& images, ThreadPool* pool,
                      Dumps* dumps) const override {
    return blocks::qwen_vision_forward(config_, weights_, images, pool, dumps);
  }
  std::unique_ptr<ImageEncoding> begin(const std::vector<VisualInput>& images,
                                       ThreadPool* pool) const override {
    return blocks::qwen_vision_begin(config_, weights_, images, pool, nullptr);
  }
  void matrices(std::vector<blocks::NamedMatrix>& out) override {
    blocks::qwen_vision_matrices(weights_, out);
  }
  void add_costs(ModelCosts& costs) const override {
    blocks::add_qwen_vision_costs(config_, weights_, costs);
  }
  int64_t patch_size() const override { return config_.patch_size; }
  int64_t temporal_patch_size() const override { return config_.temporal_patch_size; }
  int64_t merge_size() const override { return config_.spatial_merge_size; }
  int64_t patch_dim() const override { return config_.patch_dim(); }
  int64_t deepstack_levels() const override {
    return static_cast<int64_t>(config_.deepstack_visual_indexes.size());
  }
  size_t scratch_bytes(int64_t patches) const override {
    return blocks::qwen_vision_scratch_bytes(config_, patches);
  }

  const blocks::QwenVisionConfig& config() const { return config_; }
  const blocks::QwenVisionWeights& weights() const { return weights_; }

 private:
  blocks::QwenVisionConfig config_;
  blocks::QwenVisionWeights weights_;
};

}  // namespace kantu::models
