// What the CPU (and the OS, for the wider register state) can run, read once with CPUID.
#pragma once

namespace kantu::kernels {

struct CpuFeatures {
  bool avx2 = false;  // AVX2 with OS-enabled YMM state
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;  // AVX-512 foundation with OS-enabled ZMM state
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
};

// Detected on first use; cheap to call afterwards.
const CpuFeatures& cpu_features();

// The instruction-set levels kantu has kernels for, best last.
enum class Isa { kScalar, kAvx2, kAvx512 };

const char* isa_name(Isa isa);

// True when this CPU can run the kernels of `isa` (AVX2 needs AVX2+FMA+F16C).
bool isa_supported(Isa isa);

}  // namespace kantu::kernels
