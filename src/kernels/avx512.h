// AVX-512 (F + BW + VL) kernels: the *_avx512.cpp files. The AVX-512 table starts as the
// AVX2 one (every AVX-512 CPU runs AVX2) and replaces the ops that gain from 16-wide
// registers; the optional extensions (VNNI, BF16) pick variants. Only dispatch.cpp calls
// avx512::fill_table, after CPUID said the CPU can run them.
//
// The tests also build these sources with SIMDe in place of the AVX-512 instructions
// (KANTU_AVX512_EMULATED, see avx512_intrinsics.h): the same functions then live in
// namespace avx512_emulated and run on any AVX2 CPU.
#pragma once

#include "kernels/cpu_features.h"
#include "kernels/dispatch.h"

#if defined(KANTU_AVX512_EMULATED)
#define KANTU_AVX512_NS avx512_emulated
#else
#define KANTU_AVX512_NS avx512
#endif

namespace kantu::kernels::KANTU_AVX512_NS {

// Replaces the ops of `table` that have AVX-512 versions, with the variants `cpu` can run.
void fill_table(KernelTable* table, const CpuFeatures& cpu);

// kernels::matmul; block-quantized weights use the AVX-512 BW integer dot products.
void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool);
// The same with VNNI's integer dot products (CPUs with AVX-512 VNNI): also the int8 GEMM.
void matmul_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                 ThreadPool* pool);
// The same, and BF16 weights with AVX-512 BF16's dot products (gemv_bf16_dot, gemm_bf16).
void matmul_vnni_bf16(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                      float* y, ThreadPool* pool);

// The decode GEMV (1 <= n <= 4) for block-quantized weights (Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)
// with int8 x, without and with VNNI (quant_gemv_avx512.h).
void gemv_quant(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                ThreadPool* pool);
void gemv_quant_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                     float* y, ThreadPool* pool);
// The decode GEMV (1 <= n <= 3) for BF16 weights with vdpbf16ps (matmul_bf16dot_avx512.cpp):
// x rounded to bf16, or with `split` kept to 16 significant bits as two bf16 parts.
void gemv_bf16_dot(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
                   ThreadPool* pool, bool split);

// Flash attention on the 512-bit float tile (attention_avx512.cpp; head sizes off 16 go
// to the AVX2 version).
void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& shape,
               ThreadPool* pool);

// The blocked GEMMs (n >= 4, w.cols > 0): float32 FMAs for any weight type, x as given
// (gemm_f32_avx512.cpp); BF16 weights with x rounded to bf16 on vdpbf16ps
// (gemm_bf16_avx512.cpp); block types with x quantized to int8 on vpdpbusd
// (gemm_int8_vnni_avx512.cpp).
void gemm_f32(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
              ThreadPool* pool);
void gemm_bf16(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
               ThreadPool* pool);
void gemm_int8_vnni(const float* x, int64_t n, const WeightMatrix& w, const float* bias,
                    float* y, ThreadPool* pool);

}  // namespace kantu::kernels::KANTU_AVX512_NS

namespace kantu::kernels::avx512_emulated {
void fill_table(KernelTable* table, const CpuFeatures& cpu);
}  // namespace kantu::kernels::avx512_emulated
