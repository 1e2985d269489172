#include "support/fake_engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/error.h"
#include "core/timer.h"
#include "runtime/stop.h"

namespace kantu::server {

namespace {

// Splits text into "tokens" of up to 3 UTF-8 characters, never inside a character.
std::vector<std::string> fake_tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int chars = 0;
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0xF0) len = 4;
    else if (c >= 0xE0) len = 3;
    else if (c >= 0xC0) len = 2;
    len = std::min(len, text.size() - i);
    cur.append(text, i, len);
    i += len;
    if (++chars == 3) {
      out.push_back(std::move(cur));
      cur.clear();
      chars = 0;
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

class FakeSequence : public Sequence {
 public:
  FakeSequence(std::vector<std::string> tokens, int max_tokens, std::vector<std::string> stop,
               std::vector<std::string> image_keys, int image_tokens_each,
               const FakeEngine::Options& options, LruCache<int>& cache, bool fail_midway,
               FakeEngine& engine)
      : engine_(engine),
        tokens_(std::move(tokens)),
        max_tokens_(max_tokens),
        stop_(std::move(stop)),
        image_keys_(std::move(image_keys)),
        image_tokens_each_(image_tokens_each),
        options_(options),
        cache_(cache),
        fail_midway_(fail_midway) {}

  void set_prompt_tokens(int n, int image_tokens) {
    stats_.prompt_tokens = n;
    stats_.image_tokens = image_tokens;
  }

  std::string step() override {
    KANTU_CHECK(!finished_, "step() after the end");
    if (steps_ == 0) encode_and_prefill();
    engine_.wait_while_held();
    Timer t;
    if (options_.token_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.token_delay_ms));
    }
    std::string out = advance();
    add_decode_ms(t.ms());
    return out;
  }

  // One token without the per-token delay: FakeEngine::step_batch pays the delay once
  // for the whole batch.
  std::string advance() {
    KANTU_CHECK(!finished_, "step() after the end");
    ++steps_;
    if (fail_midway_ && steps_ == 3) fail(ErrorKind::kInternal, "fake engine failure (__fail__)");
    std::string out;
    size_t i = static_cast<size_t>(stats_.completion_tokens);
    if (i < tokens_.size()) {
      ++stats_.completion_tokens;
      out = stop_.push(tokens_[i]);
      if (stop_.stopped()) return finish("stop", out);
    }
    if (i + 1 >= tokens_.size()) return finish("stop", out + stop_.flush());
    if (stats_.completion_tokens >= max_tokens_) return finish("length", out + stop_.flush());
    return out;
  }

  void add_decode_ms(double ms) { stats_.decode_ms += ms; }
  bool started() const override { return steps_ > 0; }
  bool finished() const override { return finished_; }
  const SequenceStats& stats() const override { return stats_; }

 private:
  std::string finish(const char* reason, std::string out) {
    stats_.finish_reason = reason;
    finished_ = true;
    return out;
  }

  void encode_and_prefill() {
    Timer t;
    bool all_cached = !image_keys_.empty();
    for (const std::string& key : image_keys_) {
      if (cache_.get(key)) continue;
      all_cached = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(options_.image_encode_ms));
      cache_.put(key, std::make_shared<const int>(image_tokens_each_),
                 static_cast<size_t>(image_tokens_each_) * 4096);
    }
    stats_.image_ms = t.ms();
    stats_.image_cached = all_cached;
    Timer p;
    stats_.prefill_ms = p.ms();
  }

  FakeEngine& engine_;
  std::vector<std::string> tokens_;
  int max_tokens_;
  runtime::StopStringMatcher stop_;
  std::vector<std::string> image_keys_;
  int image_tokens_each_;
  FakeEngine::Options options_;
  LruCache<int>& cache_;
  bool fail_midway_;
  SequenceStats stats_;
  int steps_ = 0;
  bool finished_ = false;
};

}  // namespace

FakeEngine::FakeEngine(Options options) : options_(options), cache_(options.cache_bytes) {}

int FakeEngine::image_tokens(int64_t max_pixels) {
  if (max_pixels <= 0) return 64;
  return static_cast<int>(std::clamp<int64_t>(max_pixels / (32 * 32), 1, 16384));
}

void FakeEngine::hold_steps() {
  std::lock_guard lock(hold_mutex_);
  held_ = true;
}

void FakeEngine::release_steps() {
  {
    std::lock_guard lock(hold_mutex_);
    held_ = false;
  }
  hold_cv_.notify_all();
}

int FakeEngine::parked_steps() const {
  std::lock_guard lock(hold_mutex_);
  return parked_;
}

void FakeEngine::wait_while_held() {
  std::unique_lock lock(hold_mutex_);
  ++parked_;
  hold_cv_.wait(lock, [&] { return !held_; });
  --parked_;
}

std::vector<StepResult> FakeEngine::step_batch(std::span<Sequence* const> seqs) {
  size_t largest = largest_batch_.load();
  while (seqs.size() > largest && !largest_batch_.compare_exchange_weak(largest, seqs.size())) {
  }
  wait_while_held();
  ++batches_;
  Timer t;
  // Like the real model, one batched pass costs about one token's time whatever the
  // batch size (decode is memory-bound): that is what batching buys.
  if (options_.token_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options_.token_delay_ms));
  }
  const double pass_ms = t.ms();
  std::vector<StepResult> results(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    auto* seq = dynamic_cast<FakeSequence*>(seqs[i]);
    KANTU_CHECK(seq && seq->started() && !seq->finished(),
                "step_batch: a sequence that is not decoding or not from this engine");
    try {
      results[i].text = seq->advance();
    } catch (const Error& e) {
      results[i].error = e;
    }
    seq->add_decode_ms(pass_ms);
  }
  return results;
}

std::unique_ptr<Sequence> FakeEngine::prepare(const ChatRequest& request) {
  std::string last_user;
  int64_t prompt_tokens = 0;
  for (const ChatMessage& m : request.messages) {
    prompt_tokens += 4;  // role markers
    for (const ContentPart& p : m.parts) {
      if (p.kind == ContentPart::Kind::kText) {
        prompt_tokens += static_cast<int64_t>(fake_tokenize(p.text).size());
        if (m.role == "user") last_user = p.text;
      }
    }
  }
  const GenerationParams& params = request.params;
  int per_image = image_tokens(params.max_pixels);
  int64_t image_total = static_cast<int64_t>(per_image) * request.images.size();
  prompt_tokens += image_total;
  if (prompt_tokens >= options_.context_length) {
    fail(ErrorKind::kInvalidArgument, "the prompt is ", prompt_tokens,
         " tokens; the context holds ", options_.context_length);
  }
  int64_t room = options_.context_length - prompt_tokens;
  if (params.max_tokens > room) {
    fail(ErrorKind::kInvalidArgument, "the prompt (", prompt_tokens, " tokens) plus max_tokens (",
         params.max_tokens, ") exceeds the context of ", options_.context_length, " tokens");
  }
  int max_tokens = static_cast<int>(
      params.max_tokens > 0 ? params.max_tokens
                            : std::min<int64_t>(room, options_.default_max_tokens));

  std::string answer = "**Fake answer** to: " + last_user;
  if (!request.images.empty()) {
    answer += cat("\n\n", request.images.size(), " image(s), ", per_image,
                  " tokens each.\n\n```json\n[{\"bbox_2d\": [100, 150, 600, 700], "
                  "\"label\": \"thing\"}]\n```");
  }
  std::vector<std::string> keys;
  for (const std::string& img : request.images) {
    keys.push_back(cat(content_hash(img), "/", params.min_pixels, "/", params.max_pixels));
  }
  auto seq = std::make_unique<FakeSequence>(fake_tokenize(answer), max_tokens, params.stop,
                                            std::move(keys), per_image, options_, cache_,
                                            last_user.find("__fail__") != std::string::npos, *this);
  seq->set_prompt_tokens(static_cast<int>(prompt_tokens), static_cast<int>(image_total));
  return seq;
}

}  // namespace kantu::server
