// Helpers for comparing SIMD kernels with the scalar reference: random data, the
// kernel tables to test, and shared thread pools.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/dispatch.h"

namespace kantu::kernels::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(rng);
  return v;
}

// Every non-scalar table this CPU can run (the ones to check against the reference).
inline std::vector<const KernelTable*> simd_tables() {
  std::vector<const KernelTable*> out;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (const KernelTable* t = kernels_for(isa)) out.push_back(t);
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
