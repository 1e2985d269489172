// Scoring speed on the coco-caption demo (1000 images, 5000 references):
//   BM_ScoreDemoFromRaw      PTB tokenization + BLEU/ROUGE-L/CIDEr-D (what `eval score` does)
//   BM_ScoreDemoPretokenized the metrics alone
//   BM_TokenizeDemo          the PTB tokenizer alone (6005 captions)
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "eval/coco.h"
#include "eval/evaluate.h"
#include "eval/ptb_tokenizer.h"

namespace {

std::string data_dir() {
  const char* env = std::getenv("KANTU_TESTDATA");
  return std::string(env ? env : KANTU_TESTDATA_DEFAULT) + "/data/coco-captions-demo1000/";
}

struct Demo {
  kantu::eval::CocoAnnotations annotations;
  std::vector<kantu::eval::CaptionResult> results;
};

const Demo& demo() {
  static const Demo d = [] {
    Demo out;
    out.annotations = kantu::eval::read_coco_annotations(data_dir() + "en_captions_val2014.json");
    out.results = kantu::eval::read_coco_results(
        data_dir() + "en_captions_val2014_fakecap_results.json", out.annotations);
    return out;
  }();
  return d;
}

void BM_ScoreDemoFromRaw(benchmark::State& state) {
  const Demo& d = demo();
  for (auto _ : state) benchmark::DoNotOptimize(kantu::eval::evaluate_captions(d.annotations, d.results, {}));
}
BENCHMARK(BM_ScoreDemoFromRaw)->Unit(benchmark::kMillisecond);

void BM_ScoreDemoPretokenized(benchmark::State& state) {
  const Demo& d = demo();
  // Build pre-tokenized inputs once.
  kantu::eval::CocoAnnotations ann = d.annotations;
  std::vector<kantu::eval::CaptionResult> res = d.results;
  for (auto& [id, caps] : ann.captions) caps = kantu::eval::ptb_tokenize(caps);
  for (auto& r : res) r.caption = kantu::eval::ptb_tokenize_one(r.caption);
  kantu::eval::EvalOptions options;
  options.pretokenized = true;
  for (auto _ : state) benchmark::DoNotOptimize(kantu::eval::evaluate_captions(ann, res, options));
}
BENCHMARK(BM_ScoreDemoPretokenized)->Unit(benchmark::kMillisecond);

void BM_TokenizeDemo(benchmark::State& state) {
  const Demo& d = demo();
  std::vector<std::string> all;
  for (const auto& [id, caps] : d.annotations.captions) all.insert(all.end(), caps.begin(), caps.end());
  for (const auto& r : d.results) all.push_back(r.caption);
  all.resize(std::min<size_t>(all.size(), 6005));
  for (auto _ : state) benchmark::DoNotOptimize(kantu::eval::ptb_tokenize(all));
  state.counters["captions"] = static_cast<double>(all.size());
}
BENCHMARK(BM_TokenizeDemo)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
