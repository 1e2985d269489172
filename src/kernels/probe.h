// Machine-peak probes for bench/probe_bench.cpp: what the kernels are measured against.
#pragma once

#include <cstdint>

namespace kantu::kernels {

// Runs `iters` rounds of 12 independent 8-wide FMAs (192 flops a round) on registers and
// returns a value that depends on all of them. Needs AVX2+FMA (check isa_supported).
float probe_fma_avx2(int64_t iters, float seed);

// Runs `iters` rounds of 6 independent int8 dot-product steps, each the sequence the
// quantized kernels use without VNNI: maddubs (32 u8·s8 products summed in pairs to int16),
// madd with ones (to int32), add: 32 multiply-adds = 64 int8 ops a step, 384 a round.
int32_t probe_int8_dot_avx2(int64_t iters, int32_t seed);

// Sums n floats with wide loads and several accumulators: read bandwidth of a big buffer.
float probe_sum_avx2(const float* data, int64_t n);

}  // namespace kantu::kernels

// The instructions of the AVX-512 kernels (probe_avx512.cpp), 16 independent chains a round.
// Call each only on a CPU with its extension.
namespace kantu::kernels::avx512 {

// 16-wide FMAs (AVX-512 F): 16 x 32 = 512 flops a round.
float probe_fma(int64_t iters, float seed);
// vdpbf16ps (AVX-512 BF16): 32 bf16 products added into 16 floats, 16 x 64 = 1024 flops a round.
float probe_bf16_dot(int64_t iters, float seed);
// vpdpbusd (AVX-512 VNNI): 64 u8 x s8 products summed into 16 int32, 16 x 128 = 2048 ops a round.
int32_t probe_int8_dot(int64_t iters, int32_t seed);

}  // namespace kantu::kernels::avx512
