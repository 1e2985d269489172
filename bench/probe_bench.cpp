// Machine peaks the kernels are judged against: read bandwidth of a buffer far larger than
// the caches (GB/s, 1 and 2 threads) and the throughput of every multiply instruction the
// kernels use (1 and 2 threads; kantu bench and kernels_bench measure the same in process,
// kernels/peaks.h).
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

// One instruction's peak: `run` is the probe (probe.h), `ops` what one round of it does (a
// multiply-add counted as 2), `supported` whether this CPU has the instruction.
struct Probe {
  bool (*supported)();
  double (*run)(int64_t iters, int t);
  double ops;
};

// args: threads. GFLOP/s (int8: GOP/s) of the probe's instruction, every thread running it.
void BM_Peak(benchmark::State& state, Probe probe) {
  if (!probe.supported()) return state.SkipWithError("this CPU has no such instruction");
  const int threads = static_cast<int>(state.range(0));
  ThreadPool* pool = pool_for(threads);
  const int64_t iters = 10'000'000;
  std::vector<double> out(static_cast<size_t>(threads));
  for (auto _ : state) {
    pool->parallel_for(threads, [&](int64_t t) {
      out[static_cast<size_t>(t)] = probe.run(iters, static_cast<int>(t));
    });
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["G/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * threads * iters * probe.ops / 1e9,
      benchmark::Counter::kIsRate);
}

bool has_avx2() { return isa_supported(Isa::kAvx2); }
bool has_avx512() { return isa_supported(Isa::kAvx512); }
bool has_avx512_bf16() { return has_avx512() && cpu_features().avx512bf16; }
bool has_avx512_vnni() { return has_avx512() && cpu_features().avx512vnni; }

// 8-wide FMAs; maddubs + madd + add (the int8 dot product without VNNI); 16-wide FMAs,
// vdpbf16ps and vpdpbusd (what the AVX-512 kernels multiply with).
BENCHMARK_CAPTURE(BM_Peak, fma_f32_peak, Probe{has_avx2, [](int64_t n, int t) {
                    return double(probe_fma_avx2(n, float(t)));
                  }, 192})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Peak, int8_dot_peak, Probe{has_avx2, [](int64_t n, int t) {
                    return double(probe_int8_dot_avx2(n, t));
                  }, 384})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Peak, fma512_f32_peak, Probe{has_avx512, [](int64_t n, int t) {
                    return double(avx512::probe_fma(n, float(t)));
                  }, 512})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Peak, bf16_dot512_peak, Probe{has_avx512_bf16, [](int64_t n, int t) {
                    return double(avx512::probe_bf16_dot(n, float(t)));
                  }, 1024})->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK_CAPTURE(BM_Peak, vnni_dot512_peak, Probe{has_avx512_vnni, [](int64_t n, int t) {
                    return double(avx512::probe_int8_dot(n, t));
                  }, 2048})->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace kantu::kernels

BENCHMARK_MAIN();
