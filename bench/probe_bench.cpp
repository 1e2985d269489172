// Machine peaks the kernels are judged against: read bandwidth of a buffer far larger than
// the caches (GB/s, 1 and 2 threads) and float32 FMA throughput (GFLOP/s, 1 and 2 threads).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/probe.h"

namespace kantu::kernels {
namespace {

ThreadPool* pool_for(int threads) {
  static std::unique_ptr<ThreadPool> pools[3];
  if (!pools[threads]) pools[threads] = std::make_unique<ThreadPool>(threads);
  return pools[threads].get();
}

// args: threads. 512 MB buffer, each thread sums its own contiguous half.
void BM_ReadBandwidth(benchmark::State& state) {
  if (!isa_supported(Isa::kAvx2)) return state.SkipWithError("needs AVX2");
  const int threads = static_cast<int>(state.range(0));
  ThreadPool* pool = pool_for(threads);
  static std::vector<float> buffer(size_t{128} << 20, 1.f);
  const int64_t n = static_cast<int64_t>(buffer.size());
  std::vector<float> sums(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool->parallel_for(threads, [&](int64_t t) {
      const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
      sums[static_cast<size_t>(t)] = probe_sum_avx2(buffer.data() + begin, end - begin);
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * n * sizeof(float) / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadBandwidth)->Name("read_bandwidth")->Arg(1)->Arg(2)->UseRealTime();

// args: threads
void BM_FmaPeak(benchmark::State& state) {
  if (!isa_supported(Isa::kAvx2)) return state.SkipWithError("needs AVX2");
  const int threads = static_cast<int>(state.range(0));
  ThreadPool* pool = pool_for(threads);
  const int64_t iters = 10'000'000;
  std::vector<float> out(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool->parallel_for(threads, [&](int64_t t) {
      out[static_cast<size_t>(t)] = probe_fma_avx2(iters, static_cast<float>(t));
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * iters * 192.0 / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FmaPeak)->Name("fma_f32_peak")->Arg(1)->Arg(2)->UseRealTime();

// args: threads. int8 GOP/s counts a multiply-add as 2 ops (as GFLOP/s does).
void BM_Int8DotPeak(benchmark::State& state) {
  if (!isa_supported(Isa::kAvx2)) return state.SkipWithError("needs AVX2");
  const int threads = static_cast<int>(state.range(0));
  ThreadPool* pool = pool_for(threads);
  const int64_t iters = 10'000'000;
  std::vector<int32_t> out(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool->parallel_for(threads, [&](int64_t t) {
      out[static_cast<size_t>(t)] = probe_int8_dot_avx2(iters, static_cast<int32_t>(t));
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["int8 GOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * iters * 384.0 / 1e9,
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Int8DotPeak)->Name("int8_dot_peak")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace kantu::kernels

BENCHMARK_MAIN();
