// This machine's peaks, measured in-process (kantu bench and kernels_bench report speeds
// against them): read bandwidth from memory and the throughput of the instructions the
// chosen kernels multiply with (kernel_table(): AVX-512 or AVX2), on a number of threads.
#pragma once

#include "core/thread_pool.h"
#include "kernels/ops.h"

namespace kantu::kernels {

// A multiply-add counts as 2 flops (ops).
struct MachinePeaks {
  double read_gb_s = 0;     // a 256 MB buffer, every thread reading its share
  double fma_gflop_s = 0;   // float32 FMAs: 16-wide on AVX-512, else 8-wide
  double bf16_gflop_s = 0;  // vdpbf16ps (AVX-512 BF16); 0 without
  double int8_gop_s = 0;    // vpdpbusd (AVX-512 VNNI), else maddubs + madd + add
  bool int8_gemm = false;   // the kernels have an int8 GEMM (AVX-512 VNNI)

  // What the GEMMs of activation precision `a` multiply with, at best: vdpbf16ps for bf16
  // (BF16 weights) where the CPU has it, vpdpbusd for int8 (block weights) where there is
  // an int8 GEMM, else float FMAs.
  double compute_peak(Activations a) const;
};

// Takes about half a second on pool's threads, and briefly 256 MB of memory (freed before
// it returns). All zeros when the CPU has no AVX2 (the probes are AVX2 code).
MachinePeaks measure_peaks(ThreadPool& pool);

}  // namespace kantu::kernels
