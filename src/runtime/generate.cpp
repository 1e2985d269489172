#include "runtime/generate.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "core/content_hash.h"
#include "core/error.h"
#include "core/timer.h"
#include "formats/model_folder.h"
#include "formats/preprocessor_config.h"
#include "image/decode.h"
#include "runtime/cached_prefill.h"
#include "runtime/prompt_images.h"
#include "text/prompt_tokens.h"
#include "text/stream_decoder.h"

namespace kantu::runtime {

namespace {

// The loop's view of a model sequence: prefill the prompt through the cached prefill,
// then one token at a time.
class SequenceStepModel : public StepModel {
 public:
  SequenceStepModel(models::Model& model, models::Sequence& seq, CachedPrefill& prompt,
                    std::vector<float>* prompt_logits)
      : model_(model), seq_(seq), prompt_(prompt), prompt_logits_(prompt_logits) {}

  void prefill(std::vector<float>* logits) override {
    models::PrefillOptions options;
    options.all_logits = prompt_logits_;
    prompt_.step(0, options);
    const auto out = seq_.logits();
    logits->assign(out.begin(), out.end());
  }
  void decode(int32_t token, std::vector<float>* logits) override {
    const auto out = model_.decode(seq_, token);
    logits->assign(out.begin(), out.end());
  }
  int64_t cached_tokens() const override { return prompt_.cached_tokens(); }

 private:
  models::Model& model_;
  models::Sequence& seq_;
  CachedPrefill& prompt_;
  std::vector<float>* prompt_logits_;
};

class StreamTextDecoder : public TokenTextDecoder {
 public:
  explicit StreamTextDecoder(const text::Tokenizer& tokenizer)
      : decoder_(tokenizer, /*skip_special=*/true) {}
  std::string push(int32_t id) override { return decoder_.push(id); }
  std::string flush() override { return decoder_.flush(); }

 private:
  text::StreamDecoder decoder_;
};

}  // namespace

std::unique_ptr<Engine> Engine::load(const std::string& model_dir, int threads,
                                     const models::WeightOptions& weights,
                                     const std::string& mmproj) {
  const bool gguf = ModelFolder::is_gguf_path(model_dir);
  if (!gguf && !std::filesystem::is_directory(model_dir))
    fail(ErrorKind::kNotFound, "model folder ", model_dir, " does not exist");
  std::unique_ptr<Engine> e(new Engine());
  e->dir_ = model_dir;
  models::LoadOptions options;
  options.threads = threads;
  options.weights = weights;
  ModelFolder folder = ModelFolder::open_any(model_dir, mmproj, {});
  e->tokenizer_ = std::make_unique<text::Tokenizer>(text::Tokenizer::load(folder));
  const GenerationConfig generation = folder.generation();
  e->model_ = models::Model::load(std::move(folder), options);
  const models::ModelProfile& profile = e->model_->profile();
  e->chat_ = profile.chat;
  if (!e->chat_) fail(profile.chat_error_kind, profile.chat_error);
  e->image_config_ = profile.image;  // the family checked it fits the vision tower
  e->defaults_ = generation_defaults(generation, e->model_->eos_ids());
  e->prefix_key_ = prefix_model_key(*e->model_, weights);
  return e;
}

PreparedPrompt Engine::prepare(const std::vector<text::Message>& messages,
                               const std::vector<std::string>& tools,
                               std::vector<RgbImage> images) const {
  Timer timer;
  text::ChatOptions options;
  options.tools = tools;
  text::RenderedPrompt rendered = chat_->render(messages, options);
  if (rendered.video_count > 0)
    fail(ErrorKind::kUnsupported, "video inputs are not supported yet");

  PreparedPrompt out;
  std::vector<ImageSource> sources = image_sources(messages);
  if ((!sources.empty() || !images.empty()) && !model_->has_vision()) {
    fail(ErrorKind::kInvalidArgument, dir_, " is a text-only model: images need its vision ",
         "projector (--mmproj FILE.gguf)");
  }
  if (!images.empty()) {
    if (images.size() != sources.size())
      fail(ErrorKind::kInvalidArgument, "the messages have ", sources.size(),
           " image parts but ", images.size(), " images were given");
  } else {
    for (const ImageSource& s : sources) images.push_back(load_image_source(s));
  }
  for (size_t i = 0; i < images.size(); ++i) {
    PromptImage img;
    img.source = i < sources.size() ? sources[i].label : cat("image ", i);
    img.pre = preprocess_image(images[i], image_config_, &model_->pool());
    if (prefix_cache_) {
      const RgbImage& rgb = images[i];
      const std::string pixels = content_hash(std::string_view(
          reinterpret_cast<const char*>(rgb.pixels.data()), rgb.pixels.size()));
      img.cache_key = image_cache_key(cat(pixels, ":", rgb.width, "x", rgb.height),
                                      image_config_.min_pixels, image_config_.max_pixels);
    }
    out.images.push_back(std::move(img));
  }
  text::VisionTokenCounts counts;
  for (const PromptImage& img : out.images) counts.image_tokens.push_back(img.pre.num_tokens);
  out.ids = text::prompt_token_ids(*tokenizer_, text::expand_vision_tokens(rendered, counts));
  out.image_prepare_ms = timer.ms();
  return out;
}

GenerateOutput Engine::generate(const GenerateRequest& request, const PieceCallback& on_piece) {
  Timer timer;
  std::vector<RgbImage> images = request.images;
  PreparedPrompt prompt = prepare(request.messages, request.tools, std::move(images));
  GenerateOutput out;
  out.result = generate_prepared(prompt, request, on_piece);
  out.prompt_ids = std::move(prompt.ids);
  return out;
}

GenerationResult Engine::generate_prepared(const PreparedPrompt& prompt,
                                           const GenerateRequest& request,
                                           const PieceCallback& on_piece) {
  Timer timer;
  const int64_t n_prompt = static_cast<int64_t>(prompt.ids.size());
  const int64_t model_limit = model_->max_context();
  int64_t context = request.max_context > 0 ? request.max_context
                                            : n_prompt + std::max<int64_t>(request.options.max_new_tokens, 1);
  context = std::min(context, model_limit);
  if (n_prompt >= context || n_prompt + 1 > model_limit)
    fail(ErrorKind::kTooLarge, "the prompt has ", n_prompt, " tokens (", prompt.images.size(),
         " images), which does not fit the context of ", context, " tokens");

  std::unique_ptr<models::Sequence> seq = model_->new_sequence(context);
  std::vector<PrefillImage> images;
  for (const PromptImage& img : prompt.images) {
    const models::VisualInput in = models::visual_input(img.pre);
    images.push_back({img.cache_key, in.grid, img.pre.num_tokens, in.second_per_grid_t});
  }
  // prompt_logits wants every prompt row computed: no reuse then.
  CachedPrefill cached(*model_, request.prompt_logits ? nullptr : prefix_cache_.get(), prefix_key_,
                       prompt.ids, std::move(images), *seq);

  // Vision tower for the images with tokens after the cached prefix (timed with the
  // decode + preprocess spent in prepare()).
  models::VisionOutput vision;
  std::vector<models::VisualInput> inputs;
  std::vector<size_t> encoded;
  for (size_t i = 0; i < prompt.images.size(); ++i) {
    if (!cached.needs_vision(i)) continue;
    inputs.push_back(models::visual_input(prompt.images[i].pre));
    encoded.push_back(i);
  }
  if (!inputs.empty()) {
    vision = model_->encode_images(inputs);
    int64_t row = 0;
    for (size_t k = 0; k < encoded.size(); ++k) {
      cached.set_vision(encoded[k], &vision, row);
      row += vision.tokens_per_image[k];
    }
  }
  const double image_ms = prompt.image_prepare_ms + timer.ms();

  SequenceStepModel steps(*model_, *seq, cached, request.prompt_logits);
  StreamTextDecoder decoder(*tokenizer_);
  LoopOptions options = request.options;
  options.max_context = context;
  GenerationResult result =
      run_generation_loop(steps, prompt.ids, decoder, options, on_piece, image_ms);
  result.timings.image_ms = prompt.images.empty() ? 0 : image_ms;
  cached.remember(result.ids);  // this turn, for the next one
  return result;
}

}  // namespace kantu::runtime
