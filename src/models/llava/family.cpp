#include "models/llava/family.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/clip_preprocessor_config.h"
#include "formats/json_fields.h"
#include "formats/llava_config.h"
#include "models/llava/vision.h"
#include "models/llava/weights.h"

namespace kantu::models::llava {

namespace {

Config config_of(const ModelFolder& model) {
  using kantu::llava::parse_config;
  Config c = parse_config(model.config(), model.config_path());
  c.has_vision = model.has_vision();
  return c;
}

// processor_config.json (LlavaProcessor / LlavaNextProcessor): how the processor counts
// image tokens; absent keys follow the model config, as the processor would.
AnyresGeometry token_rules(const ModelFolder& model, const Config& c, int64_t tile_size) {
  AnyresGeometry g;
  g.tile_size = tile_size;
  g.patch_size = c.vision.patch_size;
  g.additional_tokens = 1;  // CLIP's class token
  g.drop_cls = c.drop_cls;
  const std::string path = model.dir() + "/processor_config.json";
  if (model.is_gguf() || !file_exists(path)) return g;
  const Json doc = read_json_file(path);
  const JsonFields f(doc, path);
  g.patch_size = f.positive_int("patch_size", g.patch_size);
  g.additional_tokens = f.non_negative_int("num_additional_image_tokens", g.additional_tokens);
  if (f.has("vision_feature_select_strategy")) {
    const std::string s = f.string("vision_feature_select_strategy");
    if (s != "default" && s != "full") f.wrong("vision_feature_select_strategy", "\"default\" or \"full\"");
    g.drop_cls = s == "default";
  }
  return g;
}

}  // namespace

ModelProfile profile(const ModelFolder& model) {
  const Config c = config_of(model);
  ModelProfile p = chat_profile(model);
  ImagePreprocessConfig& image = p.image;
  image.kind = c.next ? ImageProcessorKind::kLlavaNext : ImageProcessorKind::kClip;
  image.clip = model.preprocessor_json().is_null()
                   ? load_clip_preprocessor_config("", c.next)
                   : parse_clip_preprocessor_config(model.preprocessor_json(), model.preprocessor_path(), c.next);
  if (c.next && image.clip.crop_height != image.clip.crop_width) {
    fail(ErrorKind::kUnsupported, model.preprocessor_path(), ": LLaVA-NeXT tiles must be square (crop_size ",
         image.clip.crop_height, "x", image.clip.crop_width, ")");
  }
  // The processor's crops are the tower's input images (CLIP learns one position per patch).
  if (model.has_vision() &&
      (image.clip.crop_height != c.vision.image_size || image.clip.crop_width != c.vision.image_size)) {
    fail(ErrorKind::kCorrupt, processor_origin(model), "crop_size ", image.clip.crop_height, "x",
         image.clip.crop_width, " contradicts ", model.config_path(), ": vision_config.image_size ",
         c.vision.image_size);
  }
  image.patch_size = static_cast<int>(c.vision.patch_size);
  image.temporal_patch_size = 1;
  image.merge_size = 1;
  image.image_mean = {image.clip.image_mean[0], image.clip.image_mean[1], image.clip.image_mean[2]};
  image.image_std = {image.clip.image_std[0], image.clip.image_std[1], image.clip.image_std[2]};
  image.rescale_factor = image.clip.rescale_factor;
  image.tokens = token_rules(model, c, image.clip.crop_height);
  return p;
}

FamilyModel build(const ModelFolder& model, const WeightStore& store) {
  const Config c = config_of(model);
  Weights w = bind_weights(store, c);
  FamilyModel f;
  f.decoder = decoder_config(c);
  f.text = std::move(w.text);
  if (c.has_vision) f.vision = std::make_unique<LlavaVisionEncoder>(c, std::move(w.vision));
  f.positions.kind = blocks::PositionKind::kSequential;
  f.positions.image_token_id = static_cast<int32_t>(c.image_token_id);
  f.positions.merge_size = 1;
  f.image_token_id = static_cast<int32_t>(c.image_token_id);
  // LlamaConfig's eos (2, "</s>") when neither generation_config nor config.json gives one.
  f.eos_ids = eos_ids_of(model, c.text.eos_token_ids, c.text.vocab_size);
  return f;
}

}  // namespace kantu::models::llava
