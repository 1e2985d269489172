// What a model family provides behind models/model.h (the implementation side): its
// profile (chat format, image processor settings), and the parts of a loaded model that
// Model runs: the decoder's config and weights, a vision encoder, the position scheme,
// the visual token ids and the stop ids. A family is a folder models/<family>/ that parses
// its config and binds its weights onto the shared blocks (models/blocks/); the registry
// (families.cpp) maps formats' ModelFamily to it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/model_folder.h"
#include "models/checkpoint.h"
#include "models/blocks/binder.h"
#include "models/blocks/decoder.h"
#include "models/blocks/positions.h"
#include "models/blocks/qwen_vision.h"
#include "models/model.h"

namespace kantu::models {

// A family's vision tower and projector: preprocessed images in, language-model rows out.
class VisionEncoder {
 public:
  virtual ~VisionEncoder() = default;
  // Validates the inputs, then runs every image at once (see Model::encode_images).
  virtual VisionOutput encode(const std::vector<VisualInput>& images, ThreadPool* pool,
                              Dumps* dumps) const = 0;
  // The same in pieces (Model::begin_encode). By default one piece: encode() runs here.
  virtual std::unique_ptr<ImageEncoding> begin(const std::vector<VisualInput>& images,
                                               ThreadPool* pool) const;
  // The matrices --vision-weights converts (stable names: they key the weight cache).
  virtual void matrices(std::vector<blocks::NamedMatrix>& out) = 0;
  // The vision fields of ModelCosts.
  virtual void add_costs(ModelCosts& costs) const = 0;
  virtual int64_t patch_size() const = 0;
  virtual int64_t temporal_patch_size() const = 0;
  virtual int64_t merge_size() const = 0;
  virtual int64_t patch_dim() const = 0;
  // Feature levels each image token carries for the decoder's DeepStack (0: none).
  virtual int64_t deepstack_levels() const { return 0; }
  // What encode() allocates at its peak for images of `patches` patches in all
  // (activations, attention scratch, the output rows), not counting the pixel values it
  // is given: the server's memory planner admits requests by it (Model::encode_bytes).
  virtual size_t scratch_bytes(int64_t patches) const = 0;
};

// A loaded model's family-specific parts. The weights they hold are views into the
// WeightStore the Model keeps alive.
struct FamilyModel {
  blocks::DecoderConfig decoder;
  blocks::DecoderWeights text;
  std::unique_ptr<VisionEncoder> vision;  // null: a text-only model
  blocks::PositionRule positions;
  int32_t image_token_id = -1;
  int32_t video_token_id = -1;
  int32_t vision_start_token_id = -1;
  int32_t vision_end_token_id = -1;
  std::vector<int32_t> eos_ids;  // eos_ids_of: where generation stops
};

struct Family {
  ModelFamily id;
  ModelProfile (*profile)(const ModelFolder& model);
  // Parses the config and binds the weights (from `store`, the model's weights).
  FamilyModel (*build)(const ModelFolder& model, const WeightStore& store);
  // models/checkpoint.h, for synthesizing checkpoints.
  std::vector<KnownConfig> (*known_configs)();
  std::vector<CheckpointTensor> (*checkpoint_tensors)(const Json& config);
  Json (*preprocessor_config)(const Json& config);
  Json (*generation_config)(const Json& config);
};

// The registered family for an identified model (formats/model_family.h).
const Family& family_for(ModelFamily id);

// The parts of a profile every family fills the same way: its model_type, whether it has
// vision, and the chat format its template is rendered with.
ModelProfile chat_profile(const ModelFolder& model);

// The profile every Qwen-VL family builds the same way: its model_type, the chat format its
// template is rendered with, and the image settings of preprocessor_config.json (or the
// GGUF mmproj) over the family's processor defaults, checked against the vision tower of
// config.json (`tower`; null for a text-only model): a processor whose patches the tower
// cannot read (patch_size, temporal_patch_size, merge_size) is Error(kCorrupt) naming
// both keys. Loading the model and `kantu list`/`info` judge a folder by this.
ModelProfile family_profile(const ModelFolder& model, const PreprocessorConfig& defaults,
                            const blocks::QwenVisionConfig* tower);

// How an error about the image processor's settings begins: "<preprocessor_config.json
// path>: ", or, for a folder without one, "<model dir>: the image processor's default ".
std::string processor_origin(const ModelFolder& model);

// The ids generation stops on, for every family alike: the eos list of
// generation_config.json, else config.json's (top level, then text_config: see
// formats/generation_config.h), else the family's own end-of-turn ids (`family_eos`:
// its config class's default, or its chat format's turn end). Each must be in the
// vocabulary (Error(kCorrupt) naming the model otherwise).
std::vector<int32_t> eos_ids_of(const ModelFolder& model, const std::vector<int64_t>& family_eos,
                                int64_t vocab_size);

}  // namespace kantu::models
