// Helpers for comparing SIMD kernels with the scalar reference: random data, the
// kernel tables to test, and shared thread pools.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/avx512.h"
#include "kernels/dispatch.h"

namespace kantu::kernels::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// The AVX-512 kernels built over SIMDe (kernels/avx512_intrinsics.h), with and without the
// optional extensions: they run on any AVX2 CPU, so every variant is checked here even
// where the CPU has no AVX-512.
inline std::vector<const KernelTable*> emulated_avx512_tables() {
  static const std::vector<KernelTable> tables = [] {
    std::vector<KernelTable> out;
    const KernelTable* avx2 = kernels_for(Isa::kAvx2);
    if (avx2 == nullptr) return out;  // the emulation is AVX2 code
    for (int variant = 0; variant < 3; ++variant) {
      CpuFeatures cpu;
      cpu.avx2 = cpu.fma = cpu.f16c = true;
      cpu.avx512f = cpu.avx512bw = cpu.avx512vl = true;
      cpu.avx512vnni = variant >= 1;
      cpu.avx512bf16 = variant >= 2;
      KernelTable t = *avx2;
      t.isa = Isa::kAvx512;
      avx512_emulated::fill_table(&t, cpu);
      out.push_back(t);
    }
    return out;
  }();
  std::vector<const KernelTable*> out;
  for (const KernelTable& t : tables) out.push_back(&t);
  return out;
}

// Every non-scalar table this CPU can run (the ones to check against the reference), then
// the emulated AVX-512 variants.
inline std::vector<const KernelTable*> simd_tables() {
  std::vector<const KernelTable*> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (const KernelTable* t = kernels_for(isa)) out.push_back(t);
  for (const KernelTable* t : emulated_avx512_tables()) out.push_back(t);
  return out;
}

// nullptr (no pool), then pools of 2 and 3 threads.
inline std::vector<ThreadPool*> pools() {
  static std::unique_ptr<ThreadPool> two = std::make_unique<ThreadPool>(2);
  static std::unique_ptr<ThreadPool> three = std::make_unique<ThreadPool>(3);
  return {nullptr, two.get(), three.get()};
}

inline int pool_size(ThreadPool* pool) { return pool ? pool->size() : 1; }

}  // namespace kantu::kernels::test
