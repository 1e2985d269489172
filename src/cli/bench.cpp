// kantu bench: end-to-end speed and memory of one model on this machine: a synthetic
// image, a prompt padded to N tokens, exactly M greedy tokens (stop ids ignored).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/weight_flags.h"
#include "core/error.h"
#include "core/json.h"
#include "core/memory.h"
#include "kernels/peaks.h"
#include "runtime/generate.h"
#include "runtime/generation_report.h"

namespace kantu::cli {

namespace {

// A deterministic picture with edges and gradients (so no resize shortcut applies).
RgbImage synthetic_image(int size) {
  RgbImage img(size, size);
  for (int y = 0; y < size; ++y) {
    uint8_t* row = img.row(y);
    for (int x = 0; x < size; ++x) {
      row[3 * x + 0] = static_cast<uint8_t>(x * 255 / std::max(1, size - 1));
      row[3 * x + 1] = static_cast<uint8_t>(y * 255 / std::max(1, size - 1));
      row[3 * x + 2] = static_cast<uint8_t>(((x / 16 + y / 16) % 2) * 200 + (x ^ y) % 56);
    }
  }
  return img;
}

std::vector<text::Message> bench_messages(bool with_image, int filler_words) {
  text::Message user;
  user.role = "user";
  if (with_image) {
    text::ContentPart image;
    image.kind = text::ContentPart::Kind::kImage;
    user.parts.push_back(image);
  }
  std::string prompt = "Describe this image in detail.";
  for (int i = 0; i < filler_words; ++i) prompt += " the";  // one token each
  text::ContentPart part;
  part.kind = text::ContentPart::Kind::kText;
  part.text = prompt;
  user.parts.push_back(part);
  return {user};
}

double per_second(double amount, double ms) { return ms > 0 ? amount / (ms / 1e3) : 0.0; }

// "(x% of the <what>)" when the peak was measured, else nothing.
std::string share(double value, double peak, const std::string& what) {
  if (peak <= 0 || value <= 0) return "";
  char text[96];
  std::snprintf(text, sizeof text, ", %.0f%% of the %s", 100.0 * value / peak, what.c_str());
  return text;
}

// What the GEMMs of activation precision `a` multiply with on this machine (the peak
// MachinePeaks::compute_peak reports for it).
std::string peak_name(const kernels::MachinePeaks& peaks, kernels::Activations a) {
  if (a == kernels::Activations::kBF16 && peaks.bf16_gflop_s > 0) return "bf16 dot-product peak";
  if (a == kernels::Activations::kInt8 && peaks.int8_gemm) return "int8 dot-product peak";
  return "FMA peak";
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Args {
    std::string model;
    std::string mmproj;
    int image_size = 448;
    int64_t prompt_tokens = 0;
    int64_t gen_tokens = 128;
    int threads = 0;
    bool json = false;
    int repeat = 1;
    bool no_peaks = false;
    WeightFlags weights;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "Measure image encode, prefill and decode speed");
  add_model_options(cmd, "-m,--model", &a->model, &a->mmproj, "Model folder or GGUF model file")->required();
  cmd->add_option("--image-size", a->image_size, "Side of the synthetic square image (0 = none)")
      ->check(CLI::Range(0, 8192));
  cmd->add_option("--prompt-tokens", a->prompt_tokens,
                  "Pad the prompt to this many tokens (image tokens included)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--gen-tokens", a->gen_tokens, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", a->threads, "Compute threads (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--json", a->json, "Print JSON");
  add_weight_flags(cmd, &a->weights);
  cmd->add_option("--repeat", a->repeat, "Runs (the first one warms up when repeat > 1)")
      ->check(CLI::Range(1, 100));
  cmd->add_flag("--no-peaks", a->no_peaks,
                "Skip measuring this machine's read bandwidth and FMA/bf16/int8 peaks (about "
                "0.5 s) that the speeds are reported against");

  cmd->callback([a] {
    auto engine =
        runtime::Engine::load(a->model, a->threads, weight_options(a->weights), a->mmproj);
    const bool with_image = a->image_size > 0;
    std::vector<RgbImage> images;
    if (with_image) images.push_back(synthetic_image(a->image_size));

    // Pad with one-token words until the prompt has the requested length.
    int filler = 0;
    runtime::PreparedPrompt probe = engine->prepare(bench_messages(with_image, 0), {}, images);
    const int64_t base = static_cast<int64_t>(probe.ids.size());
    if (a->prompt_tokens > base) {
      filler = static_cast<int>(a->prompt_tokens - base);
      probe = engine->prepare(bench_messages(with_image, filler), {}, images);
      if (static_cast<int64_t>(probe.ids.size()) != a->prompt_tokens)
        fail(ErrorKind::kInternal, "could not pad the prompt to ", a->prompt_tokens, " tokens (got ",
             probe.ids.size(), ")");
    }

    const int64_t image_tokens = std::count(probe.ids.begin(), probe.ids.end(),
                                            engine->model().image_token_id());

    runtime::GenerateRequest request;
    request.messages = bench_messages(with_image, filler);
    request.images = images;
    request.options.sampling.temperature = 0;
    request.options.max_new_tokens = a->gen_tokens;
    request.options.stop_ids = engine->defaults().stop_ids;
    request.options.ignore_stop_ids = true;

    std::vector<runtime::GenerationResult> runs;
    for (int i = 0; i < a->repeat; ++i) {
      runtime::GenerateOutput out = engine->generate(request, nullptr);
      std::fprintf(stderr, "run %d/%d: %s\n", i + 1, a->repeat,
                   runtime::summary_line(out.result).c_str());
      runs.push_back(std::move(out.result));
    }
    // With several runs the first is a warm-up (page cache, allocator); report the rest.
    const size_t first = runs.size() > 1 ? 1 : 0;
    runtime::Timings mean;
    const double n = static_cast<double>(runs.size() - first);
    for (size_t i = first; i < runs.size(); ++i) {
      const runtime::Timings& t = runs[i].timings;
      mean.image_ms += t.image_ms / n;
      mean.prefill_ms += t.prefill_ms / n;
      mean.prefill_tok_s += t.prefill_tok_s / n;
      mean.decode_ms += t.decode_ms / n;
      mean.decode_tok_s += t.decode_tok_s / n;
      mean.ttft_ms += t.ttft_ms / n;
      mean.total_ms += t.total_ms / n;
      mean.prompt_tokens = t.prompt_tokens;
      mean.cached_tokens = t.cached_tokens;
      mean.generated_tokens = t.generated_tokens;
    }
    const double rss = peak_rss_mb();
    // After the peak RSS is taken: the probe's 256 MB buffer must not count in it.
    kernels::MachinePeaks peaks;
    if (!a->no_peaks) peaks = kernels::measure_peaks(engine->model().pool());
    // Speeds as work done per second, against what this machine can do.
    const models::ModelCosts costs = engine->model().costs();
    const double image_gflop_s =
        per_second(2 * costs.image_macs(image_tokens * costs.vision_merge_unit), mean.image_ms) / 1e9;
    const double prefill_gflop_s =
        per_second(2 * costs.prefill_macs(mean.prompt_tokens), mean.prefill_ms) / 1e9;
    const double decode_gb_s = costs.decode_weight_bytes * mean.decode_tok_s / 1e9;
    if (a->json) {
      Json j = runtime::timings_json(mean);
      j["model"] = a->model;
      j["image_size"] = a->image_size;
      j["threads"] = engine->model().pool().size();
      j["runs"] = runs.size() - first;
      j["peak_rss_mb"] = rss;
      j["image_gflop_s"] = image_gflop_s;
      j["prefill_gflop_s"] = prefill_gflop_s;
      j["decode_weight_gb_s"] = decode_gb_s;
      j["decode_weight_bytes"] = costs.decode_weight_bytes;
      j["text_activations"] = kernels::activations_name(costs.text_activations);
      j["vision_activations"] = kernels::activations_name(costs.vision_activations);
      if (peaks.read_gb_s > 0) {
        j["machine"] = Json{{"read_gb_s", peaks.read_gb_s},
                            {"fma_gflop_s", peaks.fma_gflop_s},
                            {"bf16_gflop_s", peaks.bf16_gflop_s},
                            {"int8_gop_s", peaks.int8_gop_s}};
        j["image_peak_share"] = image_gflop_s / peaks.compute_peak(costs.vision_activations);
        j["prefill_peak_share"] = prefill_gflop_s / peaks.compute_peak(costs.text_activations);
      }
      std::printf("%s\n", j.dump().c_str());
    } else {
      std::printf("model          %s\n", a->model.c_str());
      std::printf("threads        %d\n", engine->model().pool().size());
      std::printf("image          %dx%d\n", a->image_size, a->image_size);
      std::printf("prompt tokens  %lld\n", static_cast<long long>(mean.prompt_tokens));
      std::printf("new tokens     %lld\n", static_cast<long long>(mean.generated_tokens));
      const kernels::Activations va = costs.vision_activations, ta = costs.text_activations;
      std::printf("image encode   %.1f ms (%s activations, %.0f GFLOP/s%s)\n", mean.image_ms,
                  kernels::activations_name(va), image_gflop_s,
                  share(image_gflop_s, peaks.compute_peak(va), peak_name(peaks, va)).c_str());
      std::printf("prefill        %.1f ms (%.1f tok/s, %s activations, %.0f GFLOP/s%s)\n",
                  mean.prefill_ms, mean.prefill_tok_s, kernels::activations_name(ta),
                  prefill_gflop_s,
                  share(prefill_gflop_s, peaks.compute_peak(ta), peak_name(peaks, ta)).c_str());
      std::printf("decode         %.2f tok/s (%.1f GB/s of weights%s)\n", mean.decode_tok_s,
                  decode_gb_s, share(decode_gb_s, peaks.read_gb_s, "read bandwidth").c_str());
      std::printf("ttft           %.1f ms\n", mean.ttft_ms);
      std::printf("peak RSS       %.0f MB\n", rss);
      if (peaks.read_gb_s > 0)
        std::printf("machine        read %.1f GB/s, FMA %.0f GFLOP/s, bf16 %.0f GFLOP/s, int8 %.0f "
                    "GOP/s (%d threads)\n",
                    peaks.read_gb_s, peaks.fma_gflop_s, peaks.bf16_gflop_s, peaks.int8_gop_s,
                    engine->model().pool().size());
    }
  });
}

}  // namespace kantu::cli
