// The math the models need, on float32 activations. Each op has one scalar reference
// (ops_ref.cpp: the definition, also the portable fallback) and SIMD versions
// (*_avx2.cpp, *_avx512.cpp) picked once at start-up from CPUID (see dispatch.h).
// Weights stay in their stored type; activations are float32 row-major.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace kantu::kernels {

// The precision the activations x enter a matmul in (`--activations`); the weights are
// always used exactly as stored.
//  kF32   float32 products: the faithful path.
//  kBF16  x rounded to bf16 (nearest even): BF16 weights multiply on AVX-512 BF16's
//         vdpbf16ps (32 products per instruction), other weights in float32.
//  kInt8  x quantized per row to int8 blocks of 32 (scale max|x|/127, round to nearest
//         even): integer dot products against block-quantized weights (VNNI's vpdpbusd).
//         Float weights have no integer form: they run as kBF16.
// Each SIMD path computes what round_activations describes, up to float32 rounding.
enum class Activations : uint8_t { kF32, kBF16, kInt8 };

// A weight matrix W [rows = out_features, cols = in_features], row-major, in its
// stored element type, usually straight from the mapped file (never copied).
struct WeightMatrix {
  // kF32, kF16, kBF16, or a block type (kQ8_0, kQ4_0, kQ4_K, kQ5_K, kQ6_K: ggml's layouts,
  // rows of cols / block_elems blocks; cols must be a multiple of the block size).
  DType dtype = DType::kBF16;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  // What the model asked for (load options); effective_activations says what runs.
  Activations activations = Activations::kF32;
};

// The precision a matmul with `w` really uses: w.activations, except kInt8 on float weights,
// which is kBF16.
Activations effective_activations(const WeightMatrix& w);

// "f32" / "bf16" / "int8".
const char* activations_name(Activations a);
// Parses activations_name's spellings; false for anything else.
bool parse_activations(const char* name, Activations* out);

// out[n][cols] = x as a matmul in precision `a` sees it: kF32 a copy, kBF16 rounded to
// bf16, kInt8 quantized per row in blocks of 32 and scaled back (cols a multiple of 32).
// The scalar definition the SIMD paths are tested against (and run where they have no
// native form). out may be x.
void round_activations(Activations a, const float* x, int64_t n, int64_t cols, float* out);

// out[cols] = row `row` of W as float32, for any stored type (block types decoded by their
// definition). Reads unaligned data safely.
void weight_row_to_f32(const WeightMatrix& w, int64_t row, float* out);

// y[n, rows] = x[n, cols] · Wᵀ (+ bias[rows] if not null). x and y are dense row-major.
// n = 1 is the decode GEMV; n > 1 is prefill / vision GEMM. pool may be null (one thread).
void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool);

// Row-wise norms over `dim` for n rows. weight/bias are float32 [dim]; bias may be null.
void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y);
void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, int64_t dim,
                float eps, float* y);

// In place, element-wise over n values.
void gelu_tanh(float* x, int64_t n);  // 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))
void gelu_erf(float* x, int64_t n);   // 0.5x(1 + erf(x/sqrt(2)))
void quick_gelu(float* x, int64_t n); // x * sigmoid(1.702x) (CLIP, Qwen2-VL vision)
void silu(float* x, int64_t n);       // x * sigmoid(x)
// out[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void add(const float* a, const float* b, float* out, int64_t n);  // out may alias a or b

// NeoX (rotate-half) rotary embedding on one head vector of size head_dim (even):
// pair (d, d + head_dim/2) is rotated by angle d, given cos[d], sin[d] for d < head_dim/2.
void rope_rotate_half(float* x, const float* cos, const float* sin, int64_t head_dim);

// Scaled dot-product attention with grouped KV heads.
//   q   [n_q, n_heads * head_dim]     row stride q_stride floats
//   k,v [n_kv, n_kv_heads * head_dim] row stride kv_stride floats, contiguous or in blocks
//                                     (KvBlocks)
//   out [n_q, n_heads * head_dim]     row stride out_stride floats
// Query head h uses KV head h / (n_heads / n_kv_heads).
// causal_offset < 0: every query sees every key (vision). Otherwise query i sees keys
// 0 .. causal_offset + i (prefill: causal_offset = cache length before this chunk).
// Softmax in float32.
struct AttentionShape {
  int64_t n_q, n_kv;
  int n_heads, n_kv_heads, head_dim;
  int64_t q_stride, kv_stride, out_stride;
  float scale;
  int64_t causal_offset;
};
void attention(const float* q, const float* k, const float* v, float* out,
               const AttentionShape& shape, ThreadPool* pool);

// Keys and values kept in blocks of `block_rows` rows (a KV cache whose blocks sequences
// share): key row j is k[j / block_rows] + (j % block_rows) * kv_stride, value rows
// likewise. With several blocks, block_rows must be a multiple of 16 (the kernels pack
// keys 16 rows at a time). Contiguous keys and values are one block.
struct KvBlocks {
  const float* const* k = nullptr;  // [blocks]
  const float* const* v = nullptr;
  int64_t block_rows = 0;
  const float* key(int64_t j, int64_t stride) const {
    return k[j / block_rows] + (j % block_rows) * stride;
  }
  const float* value(int64_t j, int64_t stride) const {
    return v[j / block_rows] + (j % block_rows) * stride;
  }
};
void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& shape,
               ThreadPool* pool);

}  // namespace kantu::kernels
