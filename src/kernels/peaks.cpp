#include "kernels/peaks.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "kernels/cpu_features.h"
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
  const int64_t iters = 4'000'000;  // 768 MFLOP a thread: ~10 ms
  double s = best_seconds(pool, 3, [&](int64_t t) {
    sink[static_cast<size_t>(t)] += probe_fma_avx2(iters, static_cast<float>(t));
  });
  peaks.fma_gflop_s = static_cast<double>(threads) * iters * 192.0 / s / 1e9;
  s = best_seconds(pool, 3, [&](int64_t t) {
    sink[static_cast<size_t>(t)] += static_cast<float>(probe_int8_dot_avx2(iters, static_cast<int32_t>(t)));
  });
  peaks.int8_gop_s = static_cast<double>(threads) * iters * 384.0 / s / 1e9;
  // The sums feed nothing; keep them observable so the probes cannot be optimised away.
  volatile float keep = 0.f;
  for (float v : sink) keep = keep + v;
  return peaks;
}

}  // namespace kantu::kernels
