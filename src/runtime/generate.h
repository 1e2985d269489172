// One request end to end: chat messages (+ images) -> prompt ids -> vision tower ->
// prefill -> sampling loop -> streamed text. `kantu run`, `kantu bench`, `kantu serve`
// and `kantu eval run` all call Engine::generate.
//
// Thread contract: an Engine wraps one Model, which is single-threaded; calls to
// prepare()/generate() must not overlap (the server's scheduler serialises them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "formats/generation_config.h"
#include "image/image.h"
#include "image/preprocess.h"
#include "models/model.h"
#include "runtime/generation_defaults.h"
#include "runtime/generation_loop.h"
#include "runtime/prefix_cache.h"
#include "text/chat.h"
#include "text/tokenizer.h"

namespace kantu::runtime {

// The images of a prompt, decoded; with the preprocessing result.
struct PromptImage {
  std::string source;  // path or "data: URL" for messages
  PreprocessedImage pre;
  std::string cache_key;  // pixels' hash + budget (image_cache_key), when a prefix cache is on
};

// A tokenized prompt ready for prefill.
struct PreparedPrompt {
  std::vector<int32_t> ids;  // <|image_pad|> already expanded per image
  std::vector<PromptImage> images;
  double image_prepare_ms = 0;  // decode + preprocess
};

struct GenerateRequest {
  std::vector<text::Message> messages;
  std::vector<std::string> tools;  // tool definitions (rendered JSON), may be empty
  // Images to use for the image parts, in order, instead of reading the parts' sources
  // (the server decodes uploads itself). Empty: read each part's path / file:// / data: URL.
  std::vector<RgbImage> images;
  LoopOptions options;
  // Context to allocate: 0 = prompt + max_new_tokens, capped by the model's limit.
  int64_t max_context = 0;
  // When set, receives the prefill logits of every prompt position [n_prompt, vocab]
  // (the whole prompt is then prefilled, nothing taken from a prefix cache).
  std::vector<float>* prompt_logits = nullptr;
};

struct GenerateOutput {
  std::vector<int32_t> prompt_ids;
  GenerationResult result;
};

class Engine {
 public:
  // Loads the model, tokenizer, chat format and preprocessing config of a folder, or of
  // a GGUF model file and its mmproj file (empty: a text-only model that refuses images).
  // `weights` picks the matrix types (--weights / --vision-weights, see models::WeightOptions).
  static std::unique_ptr<Engine> load(const std::string& model_dir, int threads = 0,
                                      const models::WeightOptions& weights = {},
                                      const std::string& mmproj = "");

  models::Model& model() { return *model_; }
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const GenerationDefaults& defaults() const { return defaults_; }
  const std::string& model_dir() const { return dir_; }

  // Reuses earlier requests' keys and values (runtime/prefix_cache.h): a prompt that
  // starts like an earlier one (a conversation's next turn) prefills only the rest. Off
  // (null) by default: a one-shot `run` gains nothing, and `bench` must measure prefill.
  // The cache may be shared with other engines (their blocks never mix).
  void use_prefix_cache(std::shared_ptr<PrefixCache> cache) { prefix_cache_ = std::move(cache); }
  PrefixCache* prefix_cache() const { return prefix_cache_.get(); }

  // Renders, decodes/preprocesses the images and tokenizes; cheap compared to the model.
  // Bad messages or images are kantu::Errors naming the part.
  PreparedPrompt prepare(const std::vector<text::Message>& messages,
                         const std::vector<std::string>& tools,
                         std::vector<RgbImage> images = {}) const;

  // Runs a request. A prompt longer than the context is refused (kTooLarge) before the
  // vision tower runs. on_piece may be null; returning false from it cancels.
  GenerateOutput generate(const GenerateRequest& request, const PieceCallback& on_piece);
  // Same, from an already prepared prompt (bench reuses one).
  GenerationResult generate_prepared(const PreparedPrompt& prompt, const GenerateRequest& request,
                                     const PieceCallback& on_piece);

 private:
  Engine() = default;
  std::string dir_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::shared_ptr<const text::ChatFormat> chat_;
  ImagePreprocessConfig image_config_;
  GenerationDefaults defaults_;
  std::shared_ptr<PrefixCache> prefix_cache_;
  std::string prefix_key_;  // prefix_model_key of the model as loaded
};

}  // namespace kantu::runtime
