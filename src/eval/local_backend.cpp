#include "eval/local_backend.h"

#include <filesystem>

#include "core/memory.h"
#include "core/timer.h"
#include "runtime/generate.h"

namespace kantu::eval {

namespace {

// Captions with the in-process engine. Decoding is greedy so a benchmark run is
// reproducible and comparable across models; stop ids come from generation_config.json.
class LocalBackend : public CaptionBackend {
 public:
  LocalBackend(const std::string& model_dir, std::string name, int threads,
               const models::WeightOptions& weights, const std::string& mmproj)
      : engine_(runtime::Engine::load(model_dir, threads, weights, mmproj)), name_(std::move(name)) {}

  std::string model_name() const override { return name_; }
  std::string kind() const override { return "local"; }

  Caption caption(const CaptionRequest& request) override {
    Timer timer;
    text::Message message;
    message.role = "user";
    text::ContentPart image;
    image.kind = text::ContentPart::Kind::kImage;
    image.image = request.image_path;
    text::ContentPart prompt;
    prompt.kind = text::ContentPart::Kind::kText;
    prompt.text = request.prompt;
    message.parts = {image, prompt};

    runtime::GenerateRequest gen;
    gen.messages = {message};
    gen.options.sampling = engine_->defaults().sampling;
    gen.options.sampling.temperature = 0.0f;
    gen.options.stop_ids = engine_->defaults().stop_ids;
    gen.options.max_new_tokens = request.max_tokens;
    runtime::GenerateOutput out = engine_->generate(gen, nullptr);

    const runtime::Timings& t = out.result.timings;
    Caption caption;
    caption.text = out.result.text;
    caption.timings.total_ms = timer.ms();
    caption.timings.image_encode_ms = t.image_ms;
    caption.timings.prefill_ms = t.prefill_ms;
    caption.timings.decode_ms = t.decode_ms;
    caption.timings.prompt_tokens = t.prompt_tokens;
    caption.timings.generated_tokens = t.generated_tokens;
    return caption;
  }

  std::optional<double> peak_memory_mb() const override {
    double mb = peak_rss_mb();
    if (mb < 0) return std::nullopt;
    return mb;
  }

 private:
  std::unique_ptr<runtime::Engine> engine_;
  std::string name_;
};

}  // namespace

std::unique_ptr<CaptionBackend> make_local_backend(const std::string& model_dir, const std::string& name,
                                                   int threads, const models::WeightOptions& weights,
                                                   const std::string& mmproj) {
  return std::make_unique<LocalBackend>(model_dir, name, threads, weights, mmproj);
}

std::string model_label(const std::string& model_as_given) {
  const std::filesystem::path p = std::filesystem::path(model_as_given).lexically_normal();
  std::string name = p.filename().string();
  if (name.empty()) name = p.parent_path().filename().string();
  if (p.extension() == ".gguf") name = p.stem().string();
  return name;
}

}  // namespace kantu::eval
