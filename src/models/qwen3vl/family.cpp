#include "models/qwen3vl/family.h"

#include "models/qwen3vl/config.h"
#include "models/qwen3vl/weights.h"
#include "models/qwen_stop_tokens.h"
#include "models/qwen_vision_encoder.h"

namespace kantu::models::qwen3vl {

ModelProfile profile(const ModelFolder& model) {
  // Qwen3-VL's processor: 16-pixel patches, mean = std = 0.5, 65536 .. 16777216 pixels
  // (the PreprocessorConfig defaults).
  const Config c = config_of(model);
  const blocks::QwenVisionConfig tower = vision_config(c);
  return family_profile(model, PreprocessorConfig{}, c.has_vision ? &tower : nullptr);
}

FamilyModel build(const ModelFolder& model, const WeightStore& store) {
  const Config c = config_of(model);
  Weights w = bind_weights(store, c);
  FamilyModel f;
  f.decoder = decoder_config(c);
  f.text = std::move(w.text);
  if (c.has_vision) {
    f.vision = std::make_unique<QwenVisionEncoder>(vision_config(c), std::move(w.vision));
  }
  f.positions.kind = blocks::PositionKind::kMrope;
  f.positions.image_token_id = static_cast<int32_t>(c.image_token_id);
  f.positions.video_token_id = static_cast<int32_t>(c.video_token_id);
  f.positions.merge_size = c.has_vision ? c.vision.spatial_merge_size : 2;
  f.positions.temporal = blocks::TemporalRule::kFramesAsImages;
  f.image_token_id = static_cast<int32_t>(c.image_token_id);
  f.video_token_id = static_cast<int32_t>(c.video_token_id);
  f.vision_start_token_id = static_cast<int32_t>(c.vision_start_token_id);
  f.vision_end_token_id = static_cast<int32_t>(c.vision_end_token_id);
  f.eos_ids = eos_ids_of(model, kQwenEndOfTurnIds, c.text.vocab_size);
  return f;
}

}  // namespace kantu::models::qwen3vl
