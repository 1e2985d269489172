// Tokenizer throughput (MB/s of UTF-8 input) on ~1 MB of generated mixed English, Chinese
// and code. Run: ./tokenizer_bench  (KANTU_TESTDATA overrides the shared data folder).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "text/stream_decoder.h"
#include "text/tokenizer.h"

namespace {

std::string model_dir() {
  const char* env = std::getenv("KANTU_TESTDATA");
  return std::string(env && *env ? env : KANTU_TESTDATA_DEFAULT) + "/models/qwen3vl-tiny-c";
}

const kantu::text::Tokenizer& tokenizer() {
  static const kantu::text::Tokenizer t = kantu::text::Tokenizer::load(model_dir());
  return t;
}

// Deterministic mix: English sentences, Chinese runs and C++/Python snippets.
std::string mixed_text(size_t bytes) {
  const std::vector<std::string> english = {
      "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "a", "picture", "shows",
      "several", "people", "standing", "near", "tokenizer", "throughput", "model's", "it's",
      "don't", "Image", "colour", "2024", "3.14", "visual", "language", "answers", "quickly"};
  const std::vector<std::string> chinese = {"我们", "今天", "图片", "里面", "有一只", "棕色的",
                                            "狐狸", "跳过", "懒狗", "模型", "语言", "视觉",
                                            "问题", "回答", "非常", "简单", "。", "，"};
  const std::vector<std::string> code = {
      "for (int i = 0; i < n; ++i) {\n  sum += a[i] * b[i];\n}\n",
      "def forward(self, x):\n    return self.proj(x).relu()\n",
      "    if (!ok) return Status::error(\"bad input\");\n",
      "std::vector<float> out(rows * cols, 0.0f);  // [rows, cols]\n"};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&](size_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<size_t>(state % n);
  };
  std::string text;
  text.reserve(bytes + 256);
  while (text.size() < bytes) {
    switch (next(3)) {
      case 0:
        for (size_t k = 0, n = 5 + next(15); k < n; ++k) text += english[next(english.size())] + " ";
        text += ".\n";
        break;
      case 1:
        for (size_t k = 0, n = 4 + next(12); k < n; ++k) text += chinese[next(chinese.size())];
        text += "\n";
        break;
      default:
        text += code[next(code.size())];
    }
  }
  return text;
}

void BM_Encode(benchmark::State& state) {
  const std::string text = mixed_text(1 << 20);
  size_t ids = 0;
  for (auto _ : state) {
    auto out = tokenizer().encode(text, false);
    ids = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["tokens"] = static_cast<double>(ids);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

void BM_Decode(benchmark::State& state) {
  const auto ids = tokenizer().encode(mixed_text(1 << 20), false);
  for (auto _ : state) {
    auto text = tokenizer().decode(ids);
    benchmark::DoNotOptimize(text.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(ids.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_StreamDecode(benchmark::State& state) {
  const auto ids = tokenizer().encode(mixed_text(1 << 18), false);
  for (auto _ : state) {
    kantu::text::StreamDecoder decoder(tokenizer());
    size_t n = 0;
    for (int32_t id : ids) n += decoder.push(id).size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(ids.size()));
}
BENCHMARK(BM_StreamDecode)->Unit(benchmark::kMillisecond);

void BM_Load(benchmark::State& state) {
  for (auto _ : state) {
    auto t = kantu::text::Tokenizer::load(model_dir());
    benchmark::DoNotOptimize(t.vocab_size());
  }
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
