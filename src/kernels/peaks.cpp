#include "kernels/peaks.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"
#include "kernels/probe.h"

namespace kantu::kernels {
namespace {

// Best of `tries` runs of work() on every thread at once, in seconds.
template <class Work>
double best_seconds(ThreadPool& pool, int tries, const Work& work) {
  double best = 1e30;
  for (int t = 0; t < tries; ++t) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(pool.size(), work);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

MachinePeaks measure_peaks(ThreadPool& pool) {
  MachinePeaks peaks;
  if (!isa_supported(Isa::kAvx2)) return peaks;
  const int64_t threads = pool.size();
  std::vector<float> sink(static_cast<size_t>(threads));
  {
    // Far larger than any L3; first touched by all threads so its pages are spread as the
    // reads will be.
    std::vector<float> buffer(size_t{64} << 20);
    const int64_t n = static_cast<int64_t>(buffer.size());
    auto part = [&](int64_t t, auto fn) { fn(buffer.data() + n * t / threads, n / threads); };
    pool.parallel_for(threads, [&](int64_t t) {
      part(t, [](float* p, int64_t m) { std::fill(p, p + m, 1.f); });
    });
    const double s = best_seconds(pool, 3, [&](int64_t t) {
      part(t, [&](float* p, int64_t m) { sink[static_cast<size_t>(t)] += probe_sum_avx2(p, m); });
    });
    peaks.read_gb_s = static_cast<double>(n) * sizeof(float) / s / 1e9;
  }
  const int64_t iters = 4'000'000;  // ~10-20 ms a thread
  auto rate = [&](double ops_per_round, auto probe) {
    const double s = best_seconds(pool, 3, [&](int64_t t) {
      sink[static_cast<size_t>(t)] += static_cast<float>(probe(iters, static_cast<int>(t)));
    });
    return static_cast<double>(threads) * iters * ops_per_round / s / 1e9;
  };
  const CpuFeatures& cpu = cpu_features();
  if (kernel_table().isa == Isa::kAvx512) {
    peaks.fma_gflop_s = rate(512, [](int64_t n, int t) { return avx512::probe_fma(n, float(t)); });
    if (cpu.avx512bf16)
      peaks.bf16_gflop_s =
          rate(1024, [](int64_t n, int t) { return avx512::probe_bf16_dot(n, float(t)); });
    if (cpu.avx512vnni) {
      peaks.int8_gop_s = rate(2048, [](int64_t n, int t) { return avx512::probe_int8_dot(n, t); });
      peaks.int8_gemm = true;
    }
  }
  if (peaks.fma_gflop_s == 0)
    peaks.fma_gflop_s = rate(192, [](int64_t n, int t) { return probe_fma_avx2(n, float(t)); });
  if (peaks.int8_gop_s == 0)
    peaks.int8_gop_s = rate(384, [](int64_t n, int t) { return probe_int8_dot_avx2(n, t); });
  // The sums feed nothing; keep them observable so the probes cannot be optimised away.
  volatile float keep = 0.f;
  for (float v : sink) keep = keep + v;
  return peaks;
}

double MachinePeaks::compute_peak(Activations a) const {
  if (a == Activations::kBF16 && bf16_gflop_s > 0) return bf16_gflop_s;
  if (a == Activations::kInt8 && int8_gemm) return int8_gop_s;
  return fma_gflop_s;
}

}  // namespace kantu::kernels
