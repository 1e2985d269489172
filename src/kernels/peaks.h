// This machine's peaks, measured in-process (kantu bench reports its speeds against them):
// read bandwidth from memory, float32 FMA throughput and int8 multiply-add throughput, on
// a given number of threads.
#pragma once

#include "core/thread_pool.h"

namespace kantu::kernels {

struct MachinePeaks {
  double read_gb_s = 0;    // a 256 MB buffer, every thread reading its share
  double fma_gflop_s = 0;  // 8-wide FMAs, a multiply-add counted as 2 flops
  double int8_gop_s = 0;   // maddubs + madd + add (no VNNI), a multiply-add counted as 2 ops
};

// Takes about half a second on pool's threads, and briefly 256 MB of memory (freed before
// it returns). All zeros when the CPU has no AVX2 (the probes are AVX2 code).
MachinePeaks measure_peaks(ThreadPool& pool);

}  // namespace kantu::kernels
