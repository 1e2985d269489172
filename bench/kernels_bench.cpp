// Kernel perf mode: GEMV (GB/s of weight bytes), GEMM (GFLOP/s) and attention at 1 and 2
// threads, in the shapes of Qwen3-VL-2B (text hidden 2048, MLP 6144, vocab 151936; vision
// hidden 1024, 784 / 3136 patches), each also as a share of this machine's measured peak on
// the same threads: %read of the read bandwidth, %peak of the instruction the GEMM of its
// activation precision runs (512-bit FMA, vdpbf16ps, vpdpbusd on AVX-512; 256-bit FMA on
// AVX2). KANTU_ISA=scalar|avx2|avx512 picks the kernels to measure.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/peaks.h"
#include "kernels/quant.h"
#include "support/random_blocks.h"

namespace kantu::kernels {
namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

std::vector<uint16_t> random_bf16(size_t n, uint32_t seed) {
  std::vector<uint16_t> v(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
  for (auto& h : v) h = f32_to_bf16(dist(rng));
  return v;
}

ThreadPool* pool_for(int threads) {
  static std::unique_ptr<ThreadPool> pools[3];
  if (!pools[threads]) pools[threads] = std::make_unique<ThreadPool>(threads);
  return pools[threads].get();
}

// This machine's peaks on `threads` threads (measured once, kernels/peaks.h).
const MachinePeaks& peaks_for(int threads) {
  static std::unique_ptr<MachinePeaks> peaks[3];
  if (!peaks[threads]) peaks[threads] = std::make_unique<MachinePeaks>(measure_peaks(*pool_for(threads)));
  return *peaks[threads];
}

// Counters of a matmul benchmark: GB/s of weight bytes, GFLOP/s, and both as a share of
// what this machine can do on the same threads: "%read" of the read bandwidth (decode),
// "%peak" of the peak of the instruction the GEMM of this precision multiplies with.
void matmul_counters(benchmark::State& state, double weight_bytes, double flops, Activations acts,
                     int threads) {
  const double iters = static_cast<double>(state.iterations());
  const MachinePeaks& peaks = peaks_for(threads);
  auto rate = [&](double amount) { return benchmark::Counter(iters * amount, benchmark::Counter::kIsRate); };
  state.counters["GB/s"] = rate(weight_bytes / 1e9);
  state.counters["GFLOP/s"] = rate(flops / 1e9);
  if (peaks.read_gb_s > 0) state.counters["%read"] = rate(100 * weight_bytes / 1e9 / peaks.read_gb_s);
  if (peaks.compute_peak(acts) > 0)
    state.counters["%peak"] = rate(100 * flops / 1e9 / peaks.compute_peak(acts));
}

// args: rows, cols, n, threads, activations
void BM_MatmulBf16(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  ThreadPool* pool = pool_for(static_cast<int>(state.range(3)));
  const auto acts = static_cast<Activations>(state.range(4));
  const std::vector<uint16_t> w = random_bf16(static_cast<size_t>(rows * cols), 1);
  const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 2);
  std::vector<float> y(static_cast<size_t>(n * rows));
  const WeightMatrix m{DType::kBF16, rows, cols, w.data(), acts};
  for (auto _ : state) {
    matmul(x.data(), n, m, nullptr, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  matmul_counters(state, rows * cols * 2.0, 2.0 * n * rows * cols, effective_activations(m),
                  static_cast<int>(state.range(3)));
  state.SetLabel(std::string(isa_name(kernel_table().isa)) + " " + activations_name(acts));
}

void GemvArgs(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2}) {
    b->Args({2048, 2048, 1, threads, 0});
    b->Args({6144, 2048, 1, threads, 0});
    b->Args({151936, 2048, 1, threads, 0});
    // Batched decode (continuous batching in the server): 2, 4 and 8 sequences.
    for (int n : {2, 4, 8}) b->Args({6144, 2048, n, threads, 0});
    b->Args({151936, 2048, 4, threads, 0});  // 4 sequences, weights far larger than L3
  }
}
BENCHMARK(BM_MatmulBf16)->Name("gemv_bf16")->Apply(GemvArgs)->UseRealTime()->MinTime(0.5);

void GemmArgs(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2})
    for (int acts : {0, 1}) {
      b->Args({2048, 2048, 128, threads, acts});
      b->Args({2048, 2048, 512, threads, acts});
      b->Args({6144, 2048, 512, threads, acts});
      b->Args({1024, 1024, 784, threads, acts});
    }
}
BENCHMARK(BM_MatmulBf16)->Name("gemm_bf16")->Apply(GemmArgs)->UseRealTime()->MinTime(0.5);

// Block-quantized weights: quantize_matrix from random floats where kantu has a quantizer
// (Q8_0, Q4_0), random blocks otherwise (the K types come only from GGUF files).
// args: dtype, rows, cols, n, threads, activations. GB/s counts the weight bytes of the type.
void BM_MatmulQuant(benchmark::State& state) {
  const DType dtype = static_cast<DType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n = state.range(3);
  ThreadPool* pool = pool_for(static_cast<int>(state.range(4)));
  const auto acts = static_cast<Activations>(state.range(5));
  std::vector<uint8_t> w;
  if (can_quantize_to(dtype)) {
    const std::vector<uint16_t> src = random_bf16(static_cast<size_t>(rows * cols), 1);
    w.resize(dtype_bytes(dtype, rows * cols));
    quantize_matrix(WeightMatrix{DType::kBF16, rows, cols, src.data()}, dtype, w.data(), pool);
  } else {
    w = test::random_blocks(dtype, rows, cols, 1);
  }
  const std::vector<float> x = random_floats(static_cast<size_t>(n * cols), 2);
  std::vector<float> y(static_cast<size_t>(n * rows));
  const WeightMatrix m{dtype, rows, cols, w.data(), acts};
  for (auto _ : state) {
    matmul(x.data(), n, m, nullptr, y.data(), pool);
    benchmark::DoNotOptimize(y.data());
  }
  matmul_counters(state, static_cast<double>(w.size()), 2.0 * n * rows * cols,
                  effective_activations(m), static_cast<int>(state.range(4)));
  state.SetLabel(std::string(dtype_name(dtype)) + " " + isa_name(kernel_table().isa) + " " +
                 activations_name(acts));
}

void QuantGemvArgs(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K})
    for (int threads : {1, 2}) {
      b->Args({static_cast<int64_t>(t), 6144, 2048, 1, threads, 2});
      b->Args({static_cast<int64_t>(t), 2048, 6144, 1, threads, 2});
      b->Args({static_cast<int64_t>(t), 6144, 2048, 4, threads, 2});  // 4-stream batched decode
      b->Args({static_cast<int64_t>(t), 151936, 2048, 1, threads, 2});  // far larger than L3
    }
}
BENCHMARK(BM_MatmulQuant)->Name("gemv_quant")->Apply(QuantGemvArgs)->UseRealTime()->MinTime(0.5);

void QuantGemmArgs(benchmark::internal::Benchmark* b) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K})
    for (int threads : {1, 2})
      for (int acts : {0, 2}) {
        b->Args({static_cast<int64_t>(t), 2048, 2048, 512, threads, acts});
        b->Args({static_cast<int64_t>(t), 6144, 2048, 512, threads, acts});
      }
}
BENCHMARK(BM_MatmulQuant)->Name("gemm_quant")->Apply(QuantGemmArgs)->UseRealTime()->MinTime(0.5);

// Vision attention (2B: 16 heads of 64, no mask). args: tokens, threads
void BM_Attention(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  ThreadPool* pool = pool_for(static_cast<int>(state.range(1)));
  const int heads = 16, head_dim = 64;
  const int64_t width = heads * head_dim;
  const std::vector<float> q = random_floats(static_cast<size_t>(tokens * width), 1);
  const std::vector<float> k = random_floats(static_cast<size_t>(tokens * width), 2);
  const std::vector<float> v = random_floats(static_cast<size_t>(tokens * width), 3);
  std::vector<float> out(q.size());
  const AttentionShape s{tokens, tokens, heads, heads, head_dim, width, width, width, 0.125f, -1};
  for (auto _ : state) {
    attention(q.data(), k.data(), v.data(), out.data(), s, pool);
    benchmark::DoNotOptimize(out.data());
  }
  // QKᵀ and PV: 2 matmuls of tokens² × head_dim per head, on float FMAs.
  const double flops = 4.0 * heads * tokens * tokens * head_dim;
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(iters * flops / 1e9, benchmark::Counter::kIsRate);
  const double peak = peaks_for(static_cast<int>(state.range(1))).fma_gflop_s;
  if (peak > 0)
    state.counters["%peak"] = benchmark::Counter(iters * 100 * flops / 1e9 / peak, benchmark::Counter::kIsRate);
  state.SetLabel(isa_name(kernel_table().isa));
}
BENCHMARK(BM_Attention)
    ->Name("attention_vision")
    ->ArgsProduct({{784, 3136}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kantu::kernels

BENCHMARK_MAIN();
