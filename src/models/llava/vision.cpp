#include "models/llava/vision.h"

#include <algorithm>
#include <optional>

#include "core/error.h"
#include "models/llava/anyres_pack.h"

namespace kantu::models::llava {

namespace {

void dump(Dumps* dumps, const std::string& name, std::vector<int64_t> shape, const float* data) {
  if (!dumps) return;
  DumpTensor& t = (*dumps)[name];
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.shape = std::move(shape);
  t.data.assign(data, data + n);
}

}  // namespace

blocks::Activation activation_of(const std::string& name, const char* field) {
  const std::optional<blocks::Activation> act = blocks::activation_from_name(name);
  if (!act) {
    fail(ErrorKind::kUnsupported, "LLaVA config: ", field, " \"", name,
         "\" is not an activation kantu runs (silu, gelu, gelu_pytorch_tanh, quick_gelu)");
  }
  return *act;
}

blocks::ClipVisionConfig clip_config(const VisionConfig& v) {
  blocks::ClipVisionConfig c;
  c.hidden_size = v.hidden_size;
  c.intermediate_size = v.intermediate_size;
  c.num_layers = v.num_layers;
  c.num_heads = v.num_heads;
  c.num_channels = v.num_channels;
  c.image_size = v.image_size;
  c.patch_size = v.patch_size;
  c.layer_norm_eps = v.layer_norm_eps;
  c.act = activation_of(v.hidden_act, "vision_config.hidden_act");
  return c;
}

LlavaVisionEncoder::LlavaVisionEncoder(Config config, VisionWeights weights)
    : config_(std::move(config)),
      clip_(clip_config(config_.vision)),
      projector_act_(activation_of(config_.projector_act, "projector_hidden_act")),
      weights_(std::move(weights)) {}

int64_t LlavaVisionEncoder::check_inputs(const std::vector<VisualInput>& images) const {
  if (images.empty()) fail(ErrorKind::kInvalidArgument, "encode_images: no images given");
  const int64_t G = config_.vision.grid();
  int64_t total = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    const VisualInput& in = images[i];
    if (!in.pixel_values) fail(ErrorKind::kInvalidArgument, "image ", i, ": no pixel values");
    if (in.grid.t < 1 || in.grid.h != G || in.grid.w != G) {
      fail(ErrorKind::kInvalidArgument, "image ", i, ": grid (", in.grid.t, ", ", in.grid.h, ", ",
           in.grid.w, ") must be (tiles, ", G, ", ", G, ") for ", config_.vision.image_size,
           "-pixel tiles of ", config_.vision.patch_size, "-pixel patches");
    }
    if (config_.next) {
      if (in.image_height < 1 || in.image_width < 1) {
        fail(ErrorKind::kInvalidArgument, "image ", i, ": LLaVA-NeXT needs the image's size");
      }
      const int64_t expected = anyres_tile_count({in.image_height, in.image_width},
                                                 config_.image_grid_pinpoints, config_.vision.image_size);
      if (in.grid.t != expected) {
        fail(ErrorKind::kInvalidArgument, "image ", i, " (", in.image_height, "x", in.image_width,
             "): ", in.grid.t, " tiles given, its canvas takes ", expected);
      }
    } else if (in.grid.t != 1) {
      fail(ErrorKind::kInvalidArgument, "image ", i, ": LLaVA-1.5 takes one tile, got ", in.grid.t);
    }
    total += in.grid.t;
    if (total > kMaxTiles) {
      fail(ErrorKind::kTooLarge, "encode_images: ", total, " tiles exceed the limit of ", kMaxTiles,
           " per call");
    }
  }
  return total;
}

size_t LlavaVisionEncoder::scratch_bytes(int64_t patches) const {
  // Per patch position, the buffers encode() and the CLIP tower keep: the pixels' copy; the
  // residual stream, the block's scratch (norm, q/k/v, attention out, MLP) and every kept
  // hidden state; one row of attention scores per head; the selected features, the
  // projector's two outputs, the packed rows and the output.
  const int64_t D = config_.vision.hidden_size, H = config_.text.hidden_size;
  const int64_t kept = static_cast<int64_t>(config_.feature_indexes().size());
  const int64_t floats_per_patch = config_.vision.patch_dim() + D * (7 + kept) +
                                   clip_.intermediate_size + clip_.num_heads * config_.vision.positions() +
                                   config_.projector_in() + 4 * H;
  return static_cast<size_t>(patches * floats_per_patch) * sizeof(float);
}

VisionOutput LlavaVisionEncoder::encode(const std::vector<VisualInput>& images, ThreadPool* pool,
                                        Dumps* dumps) const {
  const int64_t tiles = check_inputs(images);
  const int64_t S = config_.vision.image_size, C = config_.vision.num_channels;
  const int64_t tile_values = C * S * S;
  std::vector<float> pixels(static_cast<size_t>(tiles * tile_values));
  {
    float* dst = pixels.data();
    for (const VisualInput& in : images) dst = std::copy_n(in.pixel_values, in.grid.t * tile_values, dst);
  }
  const std::vector<int64_t> indexes = config_.feature_indexes();
  const std::vector<std::vector<float>> states =
      blocks::clip_vision_forward(clip_, weights_.clip, pixels.data(), tiles, indexes, pool, dumps);

  // The selected features: per tile its tokens (CLS dropped or kept), the states side by side.
  const int64_t D = config_.vision.hidden_size, T = config_.vision.positions();
  const int64_t tokens = config_.tile_tokens(), skip = config_.drop_cls ? 1 : 0;
  const int64_t in_width = config_.projector_in(), H = config_.text.hidden_size;
  const int64_t rows = tiles * tokens;
  std::vector<float> selected(static_cast<size_t>(rows * in_width));
  for (int64_t t = 0; t < tiles; ++t) {
    for (int64_t j = 0; j < tokens; ++j) {
      float* dst = selected.data() + (t * tokens + j) * in_width;
      for (const std::vector<float>& state : states) {
        dst = std::copy_n(state.data() + (t * T + j + skip) * D, D, dst);
      }
    }
  }
  std::vector<float> projected(static_cast<size_t>(rows * H)), inner(static_cast<size_t>(rows * H));
  blocks::mlp_forward({blocks::MlpKind::kPlain, projector_act_}, weights_.projector,
                      selected.data(), rows, inner.data(), nullptr, projected.data(), pool);
  dump(dumps, "vision.projector_out", {tiles, tokens, H}, projected.data());

  VisionOutput out;
  out.hidden = H;
  const float* newline = weights_.image_newline.empty() ? nullptr : weights_.image_newline.data();
  int64_t tile = 0;
  for (const VisualInput& in : images) {
    const float* features = projected.data() + tile * tokens * H;
    std::vector<float> packed;
    if (config_.next) {
      packed = pack_anyres(features, in.grid.t, {config_.vision.grid(), H, S},
                           {in.image_height, in.image_width}, config_.image_grid_pinpoints, newline);
    } else {
      packed.assign(features, features + in.grid.t * tokens * H);
    }
    const int64_t n = static_cast<int64_t>(packed.size()) / H;
    out.grids.push_back(in.grid);
    out.tokens_per_image.push_back(n);
    out.second_per_grid_t.push_back(0);
    out.embeds.insert(out.embeds.end(), packed.begin(), packed.end());
    out.n_tokens += n;
    tile += in.grid.t;
  }
  dump(dumps, "vision.image_features_packed", {out.n_tokens, H}, out.embeds.data());
  return out;
}

void LlavaVisionEncoder::matrices(std::vector<blocks::NamedMatrix>& out) {
  blocks::clip_vision_matrices(weights_.clip, out);
  out.push_back({"vision.projector.linear_1", &weights_.projector.up.w});
  out.push_back({"vision.projector.linear_2", &weights_.projector.down.w});
}

void LlavaVisionEncoder::add_costs(ModelCosts& costs) const {
  auto macs = [](const blocks::Linear& l) { return static_cast<double>(l.w.rows * l.w.cols); };
  // Per tile position: the patch embedding, then every layer that runs.
  costs.vision_macs_per_patch = static_cast<double>(weights_.clip.patch_embed.rows * weights_.clip.patch_embed.cols);
  for (const blocks::EncoderBlockWeights& l : weights_.clip.layers) {
    costs.vision_macs_per_patch += macs(l.q) + macs(l.k) + macs(l.v) + macs(l.proj) + macs(l.mlp.up) + macs(l.mlp.down);
  }
  costs.vision_macs_per_token = macs(weights_.projector.up) + macs(weights_.projector.down);
  costs.vision_attention_width = static_cast<double>(weights_.clip.layers.size()) * static_cast<double>(config_.vision.hidden_size);
  costs.vision_merge_unit = 1;
  costs.vision_attention_span = config_.vision.positions();
}

}  // namespace kantu::models::llava
