// One table of kernel entry points per instruction set. The ops.h functions call through
// the table picked once, on first use, from CPUID; KANTU_ISA=scalar|avx2|avx512 in the
// environment forces a level (for testing and for comparing speed).
#pragma once

#include "kernels/cpu_features.h"
#include "kernels/ops.h"

namespace kantu::kernels {

struct KernelTable {
  Isa isa = Isa::kScalar;
  void (*matmul)(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                 ThreadPool* pool) = nullptr;
  void (*rms_norm)(const float* x, const float* weight, int64_t n, int64_t dim, float eps,
                   float* y) = nullptr;
  void (*layer_norm)(const float* x, const float* weight, const float* bias, int64_t n,
                     int64_t dim, float eps, float* y) = nullptr;
  void (*gelu_tanh)(float* x, int64_t n) = nullptr;
  void (*gelu_erf)(float* x, int64_t n) = nullptr;
  void (*quick_gelu)(float* x, int64_t n) = nullptr;
  void (*silu)(float* x, int64_t n) = nullptr;
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n) = nullptr;
  void (*add)(const float* a, const float* b, float* out, int64_t n) = nullptr;
  void (*rope_rotate_half)(float* x, const float* cos, const float* sin,
                           int64_t head_dim) = nullptr;
  void (*attention)(const float* q, const KvBlocks& kv, float* out, const AttentionShape& shape,
                    ThreadPool* pool) = nullptr;
};

// The table every ops.h call uses (chosen once; throws kantu::Error if KANTU_ISA names an
// unknown level or one this CPU or build cannot run).
const KernelTable& kernel_table();

// The table of one level, or nullptr when this build has no kernels for it or the CPU
// cannot run them. Tests use it to compare every level against the scalar reference.
const KernelTable* kernels_for(Isa isa);

// Parses "scalar" / "avx2" / "avx512"; false for anything else.
bool parse_isa(const char* name, Isa* out);

}  // namespace kantu::kernels
