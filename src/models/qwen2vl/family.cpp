#include "models/qwen2vl/family.h"

#include "models/qwen2vl/config.h"
#include "models/qwen2vl/weights.h"
#include "models/qwen_stop_tokens.h"
#include "models/qwen_vision_encoder.h"

namespace kantu::models::qwen2vl {

ModelProfile profile(const ModelFolder& model) {
  // Qwen2VLImageProcessor's class defaults (both families): 14-pixel patches, CLIP mean
  // and std, 56*56 .. 28*28*1280 pixels. The official preprocessor_config.json files say
  // min_pixels 3136 and max_pixels 12845056 and are read over these.
  PreprocessorConfig d;
  d.patch_size = 14;
  d.min_pixels = 56 * 56;
  d.max_pixels = 28 * 28 * 1280;
  d.image_mean = {0.48145466f, 0.4578275f, 0.40821073f};
  d.image_std = {0.26862954f, 0.26130258f, 0.27577711f};
  const Config c = config_of(model);
  return family_profile(model, d, c.has_vision ? &c.vision : nullptr);
}

FamilyModel build(const ModelFolder& model, const WeightStore& store) {
  const Config c = config_of(model);
  Weights w = bind_weights(store, c);
  FamilyModel f;
  f.decoder = c.text;
  f.text = std::move(w.text);
  if (c.has_vision) f.vision = std::make_unique<QwenVisionEncoder>(c.vision, std::move(w.vision));
  f.positions.kind = blocks::PositionKind::kMrope;
  f.positions.image_token_id = static_cast<int32_t>(c.image_token_id);
  f.positions.video_token_id = static_cast<int32_t>(c.video_token_id);
  f.positions.merge_size = c.has_vision ? c.vision.spatial_merge_size : 2;
  if (c.variant == Variant::kQwen25VL) {
    f.positions.temporal = blocks::TemporalRule::kSeconds;
    f.positions.tokens_per_second = c.tokens_per_second;
  } else {
    f.positions.temporal = blocks::TemporalRule::kFrameIndex;
  }
  f.image_token_id = static_cast<int32_t>(c.image_token_id);
  f.video_token_id = static_cast<int32_t>(c.video_token_id);
  f.vision_start_token_id = static_cast<int32_t>(c.vision_start_token_id);
  f.vision_end_token_id = static_cast<int32_t>(c.vision_end_token_id);
  f.eos_ids = eos_ids_of(model, kQwenEndOfTurnIds, c.text.vocab_size);
  return f;
}

}  // namespace kantu::models::qwen2vl
