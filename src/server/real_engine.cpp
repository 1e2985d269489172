#include "server/real_engine.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>

#include "core/error.h"
#include "core/memory.h"
#include "core/timer.h"
#include "formats/model_folder.h"
#include "hub/repo_cache.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "models/model.h"
#include "runtime/cached_prefill.h"
#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"
#include "runtime/stop.h"
#include "server/lru_cache.h"
#include "server/memory_budget.h"
#include "server/prefill_pacer.h"
#include "text/chat.h"
#include "text/prompt_tokens.h"
#include "text/stream_decoder.h"
#include "text/tokenizer.h"

namespace kantu::server {

namespace {

size_t vision_bytes(const models::VisionOutput& v) {
  size_t n = v.embeds.size();
  for (const auto& d : v.deepstack) n += d.size();
  return n * sizeof(float) + 256;
}

struct Shared {
  std::unique_ptr<models::Model> model;  // engine thread only
  text::Tokenizer tokenizer;
  std::shared_ptr<const text::ChatFormat> chat;
  ImagePreprocessConfig image_config;
  RealEngineOptions options;
  int64_t context = 0;
  std::string model_id;
  runtime::GenerationDefaults defaults;  // generation_config.json: what a request leaves out
  int64_t default_max_tokens = 0;        // its max_new_tokens, else options.default_max_tokens
  LruCache<models::VisionOutput> cache;
  std::shared_ptr<runtime::PrefixCache> prefix;  // keys and values of earlier requests
  std::string prefix_key;                        // this model's in it
  PrefillPacer pacer;

  Shared(text::Tokenizer t, const RealEngineOptions& o)
      : tokenizer(std::move(t)), options(o), cache(o.cache_bytes), pacer(o.prefill_chunk_steps) {}
};

struct PendingImage {
  RgbImage rgb{0, 0};
  std::string key;  // content hash + budget
  ImagePreprocessConfig config;
  models::GridTHW grid;  // what preprocessing will make of it (positions need it)
  int64_t tokens = 0;
  bool encode = false;  // its rows come from the vision tower (not from a cache)
};

// What one request will allocate, for the memory budget. Images are decoded one after the
// other in prepare() and encoded one after the other on the engine thread, so only the
// largest one's work counts; the decoded pixels and the vision rows of all of them are
// held until the prefill.
struct RequestPlan {
  size_t pixels = 0;      // decoded RGB, held until encoded
  size_t image_work = 0;  // the peak of decoding, or of preprocessing and encoding, one image
  size_t vision_rows = 0; // the vision tower's outputs, held until the prefill
  size_t kv = 0;          // KV cache and logits for the prompt and max_tokens
  size_t images() const { return pixels + image_work + vision_rows; }
  size_t total() const { return images() + kv; }
};

// Preprocessing's own buffers per resized pixel (the resize's intermediate rows and the
// normalized float image; the pixel values it hands on are Model::encode_bytes').
constexpr size_t kPreprocessBytesPerPixel = 40;

class RealSequence : public Sequence {
 public:
  RealSequence(Shared& shared, std::vector<int32_t> ids, std::vector<PendingImage> images,
               int max_tokens, const runtime::SamplingParams& sampling,
               std::vector<std::string> stops, int image_tokens,
               MemoryBudget::Reservation memory, size_t image_memory)
      : s_(shared),
        memory_(std::move(memory)),
        image_memory_(image_memory),
        ids_(std::move(ids)),
        images_(std::move(images)),
        max_tokens_(max_tokens),
        sampler_(sampling),
        stop_(std::move(stops)),
        decoder_(s_.tokenizer, /*skip_special=*/true) {
    stats_.prompt_tokens = static_cast<int>(ids_.size());
    stats_.image_tokens = image_tokens;
  }

  ~RealSequence() override {
    if (started_ && !finished_) s_.pacer.stream_ended();
  }

  // Before the first token, each call does one piece of the prompt's work
  // (PrefillPacer): the cache lookup with the first piece, then each image the caches do
  // not hold a few vision encoder blocks at a time, then chunks of the prompt; the call
  // that ends the prefill samples the first token. With no other stream decoding, all of
  // it at once.
  std::string step() override {
    KANTU_CHECK(!finished_, "step() after the end");
    if (!started_) {
      if (!prefill_step()) return {};
      started_ = true;
      s_.pacer.stream_started();
      return sample_next();
    }
    Timer t;
    s_.model->decode(*seq_, last_token_);
    std::string out = sample_next();
    stats_.decode_ms += t.ms();
    return out;
  }

  bool started() const override { return started_; }
  bool finished() const override { return finished_; }
  const SequenceStats& stats() const override { return stats_; }

  // Batched decoding (RealEngine::step_batch): the model state and the token it
  // appends next; after the shared pass, sample_next() picks this sequence's token
  // from its own logits.
  models::Sequence& model_sequence() { return *seq_; }
  int32_t last_token() const { return last_token_; }
  void add_decode_ms(double ms) { stats_.decode_ms += ms; }

  std::string sample_next() {
    logits_.assign(seq_->logits().begin(), seq_->logits().end());
    return accept(sampler_.sample(logits_, seen_, generated_));
  }

 private:
  // The cache lookup (attaches what earlier requests left); the images with tokens after
  // the cached part take their rows from the image-embedding cache or are marked for the
  // vision tower.
  void begin_prefill() {
    Timer t;
    seq_ = s_.model->new_sequence(static_cast<int64_t>(ids_.size()) + max_tokens_);
    std::vector<runtime::PrefillImage> images;
    for (const PendingImage& img : images_) images.push_back({img.key, img.grid, img.tokens, 0});
    prefill_.emplace(*s_.model, s_.prefix.get(), s_.prefix_key, ids_, std::move(images), *seq_);
    stats_.cached_tokens = static_cast<int>(prefill_->cached_tokens());
    bool all_cached = !images_.empty();
    for (size_t i = 0; i < images_.size(); ++i) {
      PendingImage& img = images_[i];
      if (prefill_->needs_vision(i)) {
        if (auto hit = s_.cache.get(img.key)) {
          prefill_->set_vision(i, hit.get());
          vision_.push_back(std::move(hit));
        } else {
          img.encode = true;
          all_cached = false;
          continue;  // keeps its pixels
        }
      }
      img.rgb = RgbImage(0, 0);  // the pixels are no longer needed
    }
    stats_.image_ms = t.ms();
    stats_.image_cached = all_cached;
  }

  // The next piece of the vision tower (all of it when `whole`): an image's
  // preprocessing and patch embedding, then a few encoder blocks at a time. True when
  // every image has its rows.
  bool encode_step(bool whole) {
    while (next_image_ < images_.size()) {
      PendingImage& img = images_[next_image_];
      if (!img.encode) {
        ++next_image_;
        continue;
      }
      if (!encoding_) {
        PreprocessedImage pre = preprocess_image(img.rgb, img.config, &s_.model->pool());
        img.rgb = RgbImage(0, 0);
        encoding_ = s_.model->begin_encode({models::visual_input(pre)});
        ms_per_block_ = 0;
        if (!whole) return false;
      }
      const int64_t blocks = whole ? 0 : s_.pacer.encode_blocks(ms_per_block_);
      Timer t;
      encoding_->step(blocks);
      if (blocks > 0) ms_per_block_ = t.ms() / static_cast<double>(blocks);
      if (encoding_->done()) {
        auto out = std::make_shared<models::VisionOutput>(encoding_->take());
        encoding_.reset();
        s_.cache.put(img.key, out, vision_bytes(*out));
        prefill_->set_vision(next_image_, out.get());
        vision_.push_back(std::move(out));
        ++next_image_;
      }
      if (!whole) return next_image_ == images_.size();
    }
    return true;
  }

  // One piece of the work before the first token (see step()); true when the prompt is
  // done.
  bool prefill_step() {
    const bool whole = s_.pacer.chunk_tokens() == 0;
    if (!prefill_) {
      begin_prefill();
    }
    if (next_image_ < images_.size()) {
      Timer t;
      const bool encoded = encode_step(whole);
      stats_.image_ms += t.ms();
      if (!encoded || !whole) return false;
    }
    Timer p;
    const int64_t before = prefill_->remaining();
    const bool done = prefill_->step(whole ? 0 : s_.pacer.chunk_tokens());
    const double ms = p.ms();
    s_.pacer.prefilled(before - prefill_->remaining(), ms);
    stats_.prefill_ms += ms;
    if (!done) return false;
    seen_ = ids_;
    vision_.clear();
    memory_.release(image_memory_);  // what stays is the KV cache's share
    prefill_->remember();            // requests that come while this one decodes share it
    return true;
  }

  // Keeps what the sequence computed (prompt and answer) for the next turn, then lets go.
  void end_sequence() {
    if (started_) s_.pacer.stream_ended();
    if (prefill_) prefill_->remember(generated_);
    prefill_.reset();
    seq_.reset();  // frees the KV blocks the cache does not hold
  }

  std::string finish(const char* reason, std::string out) {
    out += stop_.flush();
    stats_.finish_reason = reason;
    end_sequence();
    finished_ = true;
    return out;
  }

  std::string accept(int32_t token) {
    if (std::find(s_.model->eos_ids().begin(), s_.model->eos_ids().end(), token) !=
        s_.model->eos_ids().end()) {
      return finish("stop", stop_.push(decoder_.flush()));
    }
    ++stats_.completion_tokens;
    generated_.push_back(token);
    seen_.push_back(token);
    last_token_ = token;
    // A model's vocabulary rows may exceed the tokenizer's (padding rows): such an id
    // has no text.
    std::string out = stop_.push(s_.tokenizer.is_valid(token) ? decoder_.push(token) : std::string());
    if (stop_.stopped()) {
      stats_.finish_reason = "stop";
      end_sequence();
      finished_ = true;
      return out;
    }
    if (stats_.completion_tokens >= max_tokens_) {
      return finish("length", out + stop_.push(decoder_.flush()));
    }
    return out;
  }

  Shared& s_;
  MemoryBudget::Reservation memory_;  // released when the sequence is dropped
  size_t image_memory_;               // its part for the images, released after the prefill
  std::vector<int32_t> ids_;
  std::vector<PendingImage> images_;
  int max_tokens_;
  runtime::Sampler sampler_;
  runtime::StopStringMatcher stop_;
  text::StreamDecoder decoder_;
  std::unique_ptr<models::Sequence> seq_;
  std::optional<runtime::CachedPrefill> prefill_;  // refers to *seq_: declared after it
  std::unique_ptr<models::ImageEncoding> encoding_;  // of images_[next_image_]
  size_t next_image_ = 0;                           // the first image that may need encoding
  double ms_per_block_ = 0;                         // of encoding_'s last piece
  std::vector<std::shared_ptr<const models::VisionOutput>> vision_;  // rows until the prefill ends
  std::vector<float> logits_;
  std::vector<int32_t> seen_, generated_;
  int32_t last_token_ = 0;
  bool started_ = false;
  bool finished_ = false;
  SequenceStats stats_;
};

class RealEngine : public Engine {
 public:
  explicit RealEngine(std::unique_ptr<Shared> shared) : s_(std::move(shared)) {}

  std::string model_id() const override { return s_->model_id; }
  int64_t context_length() const override { return s_->context; }

  std::unique_ptr<Sequence> prepare(const ChatRequest& request) override {
    const GenerationParams& p = request.params;
    const runtime::SamplingParams sampling = runtime::sampling_params(s_->defaults.sampling, p.sampling);

    // Images: decode and size them now, so a bad image is a 4xx before queuing.
    if (!request.images.empty() && !s_->model->has_vision()) {
      fail(ErrorKind::kInvalidArgument, "this model is text-only (a GGUF model without its ",
           "--mmproj vision projector); it cannot read images");
    }
    ImagePreprocessConfig config = s_->image_config;
    if (p.min_pixels) config.min_pixels = p.min_pixels;
    if (p.max_pixels) config.max_pixels = p.max_pixels;
    if (config.min_pixels > config.max_pixels) {
      fail(ErrorKind::kInvalidArgument, "min_pixels (", config.min_pixels,
           ") exceeds max_pixels (", config.max_pixels, ")");
    }
    // Sizes from the headers first: the token counts and the memory plan need no pixels
    // (a count does not depend on the EXIF orientation: smart_resize is symmetric).
    auto image_span = [&](size_t i) {
      return std::span(reinterpret_cast<const uint8_t*>(request.images[i].data()), request.images[i].size());
    };
    RequestPlan plan;
    text::VisionTokenCounts counts;
    int64_t image_tokens = 0;
    for (size_t i = 0; i < request.images.size(); ++i) {
      const StoredSize size = probe_image_size(image_span(i), {}, cat("image ", i + 1));
      const int64_t n = image_token_count(size.height, size.width, config);
      counts.image_tokens.push_back(n);
      image_tokens += n;
      const int64_t patches = n * s_->model->merge_size() * s_->model->merge_size();
      const int64_t resized = patches * s_->model->patch_size() * s_->model->patch_size();
      const size_t rgb = static_cast<size_t>(size.width * size.height) * 3;
      plan.pixels += rgb;
      plan.image_work = std::max({plan.image_work, decode_peak_bytes(size.width, size.height) - rgb,
                                  static_cast<size_t>(resized) * kPreprocessBytesPerPixel +
                                      s_->model->encode_bytes(patches)});
      plan.vision_rows += s_->model->vision_output_bytes(n);
    }

    std::vector<text::Message> messages;
    for (const ChatMessage& m : request.messages) {
      text::Message tm;
      tm.role = m.role;
      for (const ContentPart& part : m.parts) {
        text::ContentPart tp;
        if (part.kind == ContentPart::Kind::kText) {
          tp.kind = text::ContentPart::Kind::kText;
          tp.text = part.text;
        } else {
          tp.kind = text::ContentPart::Kind::kImage;
        }
        tm.parts.push_back(std::move(tp));
      }
      messages.push_back(std::move(tm));
    }
    text::RenderedPrompt prompt = s_->chat->render(messages, {});
    std::vector<int32_t> ids =
        text::prompt_token_ids(s_->tokenizer, text::expand_vision_tokens(prompt, counts));

    int64_t n = static_cast<int64_t>(ids.size());
    if (n + 1 > s_->context) {
      fail(ErrorKind::kInvalidArgument, "context_length_exceeded: the prompt is ", n,
           " tokens and the context holds ", s_->context);
    }
    if (p.max_tokens > 0 && n + p.max_tokens > s_->context) {
      fail(ErrorKind::kInvalidArgument, "context_length_exceeded: the prompt (", n,
           " tokens) plus max_tokens (", p.max_tokens, ") exceeds the context of ", s_->context);
    }
    int max_tokens = static_cast<int>(p.max_tokens > 0 ? p.max_tokens
                                                       : std::min<int64_t>(s_->context - n,
                                                                           s_->default_max_tokens));

    // Admission by memory (waits its turn, or 503/413), then the pixels.
    plan.kv = s_->model->sequence_bytes(n + max_tokens);
    MemoryBudget::Reservation memory;
    if (s_->options.memory) {
      memory = s_->options.memory->reserve(
          plan.total(), cat("this request (", request.images.size(), " image(s), ", n, " prompt tokens + ",
                            max_tokens, " to generate: ", mib(plan.images()), " for images, ", mib(plan.kv),
                            " for the KV cache)"));
    }
    std::vector<PendingImage> images;
    for (size_t i = 0; i < request.images.size(); ++i) {
      PendingImage img;
      img.rgb = decode_image(image_span(i), {}, cat("image ", i + 1));
      KANTU_CHECK(image_token_count(img.rgb.height, img.rgb.width, config) == counts.image_tokens[i],
                  "image ", i + 1, ": token count differs from the header's");
      img.key = runtime::image_cache_key(content_hash(request.images[i]), config.min_pixels, config.max_pixels);
      img.config = config;
      const PatchGrid grid = image_grid(img.rgb.height, img.rgb.width, config);
      img.grid = {grid.t, grid.h, grid.w};
      img.tokens = counts.image_tokens[i];
      images.push_back(std::move(img));
    }
    return std::make_unique<RealSequence>(*s_, std::move(ids), std::move(images), max_tokens,
                                          sampling, p.stop, static_cast<int>(image_tokens),
                                          std::move(memory), plan.images());
  }

  std::shared_ptr<const runtime::PrefixCache> prefix_cache() const override { return s_->prefix; }
  std::optional<CacheUsage> image_cache_usage() const override { return s_->cache.usage(); }

  std::vector<StepResult> step_batch(std::span<Sequence* const> seqs) override {
    std::vector<StepResult> results(seqs.size());
    std::vector<RealSequence*> real;
    std::vector<models::Sequence*> model_seqs;
    std::vector<int32_t> tokens;
    for (Sequence* seq : seqs) {
      auto* r = dynamic_cast<RealSequence*>(seq);
      KANTU_CHECK(r && r->started() && !r->finished(),
                  "step_batch: a sequence that is not decoding or not from this engine");
      real.push_back(r);
      model_seqs.push_back(&r->model_sequence());
      tokens.push_back(r->last_token());
    }
    Timer pass;
    try {
      s_->model->decode_batch(model_seqs, tokens);
    } catch (const Error& e) {
      for (StepResult& r : results) r.error = e;
      return results;
    }
    // Every sequence waited for the whole pass: that is its share of decode time.
    const double pass_ms = pass.ms();
    s_->pacer.decode_pass(pass_ms);
    for (size_t i = 0; i < real.size(); ++i) {
      Timer t;
      try {
        results[i].text = real[i]->sample_next();
      } catch (const Error& e) {
        results[i].error = e;
      }
      real[i]->add_decode_ms(pass_ms + t.ms());
    }
    return results;
  }

 private:
  std::unique_ptr<Shared> s_;
};

}  // namespace

std::unique_ptr<Engine> load_real_engine(const std::string& model_dir,
                                         const RealEngineOptions& options) {
  ModelFolder folder = ModelFolder::open_any(model_dir, options.mmproj, {});
  auto shared = std::make_unique<Shared>(text::Tokenizer::load(folder), options);
  const GenerationConfig generation = folder.generation();
  shared->model = models::Model::load(std::move(folder), {options.threads, options.weights});
  shared->defaults = runtime::generation_defaults(generation, shared->model->eos_ids());
  // Not defaults.max_new_tokens: that is run's 256 when the config has none, and the
  // server keeps its own default then.
  shared->default_max_tokens = generation.max_new_tokens.value_or(options.default_max_tokens);
  const models::ModelProfile& profile = shared->model->profile();
  shared->chat = profile.chat;
  if (!shared->chat) fail(profile.chat_error_kind, profile.chat_error);
  shared->image_config = profile.image;
  shared->context = std::min<int64_t>(options.context_length, shared->model->max_context());
  // A model from the Hugging Face cache is named as the Hub names it, not by its commit.
  shared->model_id = hub::model_name_of_cache_path(model_dir)
                         .value_or(std::filesystem::path(model_dir).filename().string());
  if (shared->model_id.empty()) shared->model_id = std::filesystem::path(model_dir).parent_path().filename().string();
  if (options.memory) {
    // The fixed parts of the plan. The process's anonymous memory now holds the model's
    // buffers, the tokenizer and the libraries' heaps (mapped weights are file pages).
    const models::Model& m = *shared->model;
    options.memory->reserve_fixed("weights", m.weight_bytes());
    const double anon_mb = anonymous_rss_mb();
    options.memory->reserve_fixed(
        "model buffers and process", std::max(m.working_bytes(), anon_mb > 0 ? static_cast<size_t>(anon_mb * 1048576) : 0));
    options.memory->reserve_fixed("image cache (--cache-mb)", options.cache_bytes);
  }
  shared->prefix = options.prefix_cache;
  if (!shared->prefix) {
    size_t kv = options.kv_cache_bytes.value_or(kDefaultKvCacheBytes);
    if (options.memory && !options.kv_cache_bytes) {
      const size_t room = options.memory->limit() - std::min(options.memory->limit(), options.memory->fixed());
      kv = std::min(kv, room / 4);
    }
    shared->prefix = std::make_shared<runtime::PrefixCache>(kv);
  }
  if (options.memory) options.memory->reserve_fixed("prefix KV cache (--kv-cache-mb)", shared->prefix->budget());
  shared->prefix_key = runtime::prefix_model_key(*shared->model, options.weights);
  return std::make_unique<RealEngine>(std::move(shared));
}

}  // namespace kantu::server
