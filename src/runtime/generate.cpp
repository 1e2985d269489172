#include "runtime/generate.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/timer.h"
#include "formats/model_folder.h"
#include "formats/preprocessor_config.h"
#include "image/decode.h"
#include "runtime/prompt_images.h"
#include "text/prompt_tokens.h"
#include "text/stream_decoder.h"

namespace kantu::runtime {

namespace {

// The loop's view of a model sequence: prefill the prepared ids (with the images'
// vision output), then one token at a time.
class SequenceStepModel : public StepModel {
 public:
  SequenceStepModel(models::Model& model, models::Sequence& seq, std::span<const int32_t> ids,
                    const models::VisionOutput* vision, std::vector<float>* prompt_logits)
      : model_(model), seq_(seq), ids_(ids), vision_(vision), prompt_logits_(prompt_logits) {}

  void prefill(std::vector<float>* logits) override {
    models::PrefillOptions options;
    options.all_logits = prompt_logits_;
    std::vector<const models::VisionOutput*> vision;
    if (vision_ != nullptr && vision_->n_tokens > 0) vision.push_back(vision_);
    model_.prefill(seq_, ids_, vision, options);
    const auto out = seq_.logits();
    logits->assign(out.begin(), out.end());
  }
  void decode(int32_t token, std::vector<float>* logits) override {
    const auto out = model_.decode(seq_, token);
    logits->assign(out.begin(), out.end());
  }

 private:
  models::Model& model_;
  models::Sequence& seq_;
  std::span<const int32_t> ids_;
  const models::VisionOutput* vision_;
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

GenerationDefaults generation_defaults(const GenerationConfig& config,
                                       const std::vector<int32_t>& stop_ids) {
  GenerationDefaults d;
  d.stop_ids = stop_ids;
  // Absent fields have the Hugging Face GenerationConfig defaults (formats/generation_config.h):
  // greedy unless do_sample, temperature 1, top_k 50, top_p 1.
  d.sampling.temperature = config.do_sample ? static_cast<float>(config.temperature) : 0.0f;
  d.sampling.top_k = static_cast<int>(config.top_k);
  d.sampling.top_p = static_cast<float>(config.top_p);
  d.sampling.min_p = static_cast<float>(config.min_p);
  d.sampling.repetition_penalty = static_cast<float>(config.repetition_penalty);
  d.max_new_tokens = config.max_new_tokens.value_or(256);
  return d;
}

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
  e->image_config_ = profile.image;
  if (e->model_->has_vision() && e->image_config_.patch_dim() != e->model_->patch_dim())
    fail(ErrorKind::kCorrupt, model_dir, ": the image processor gives patches of ",
         e->image_config_.patch_dim(), " values but the vision tower expects ",
         e->model_->patch_dim());
  e->defaults_ = generation_defaults(generation, e->model_->eos_ids());
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

  // Vision tower (timed with the decode + preprocess spent in prepare()).
  models::VisionOutput vision;
  if (!prompt.images.empty()) {
    std::vector<models::VisualInput> inputs;
    for (const PromptImage& img : prompt.images) {
      inputs.push_back(models::visual_input(img.pre));
    }
    vision = model_->encode_images(inputs);
  }
  const double image_ms = prompt.image_prepare_ms + timer.ms();

  std::unique_ptr<models::Sequence> seq = model_->new_sequence(context);
  SequenceStepModel steps(*model_, *seq, prompt.ids, &vision, request.prompt_logits);
  StreamTextDecoder decoder(*tokenizer_);
  LoopOptions options = request.options;
  options.max_context = context;
  GenerationResult result =
      run_generation_loop(steps, prompt.ids, decoder, options, on_piece, image_ms);
  result.timings.image_ms = prompt.images.empty() ? 0 : image_ms;
  return result;
}

}  // namespace kantu::runtime
