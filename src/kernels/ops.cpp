// The public ops: check the arguments once, then call the kernel of the chosen ISA.
#include "kernels/ops.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace kantu::kernels {

void matmul(const float* x, int64_t n, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool* pool) {
  const bool block_type = w.dtype == DType::kQ8_0 || w.dtype == DType::kQ4_0 ||
                          w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K ||
                          w.dtype == DType::kQ6_K;
  if (w.dtype != DType::kF32 && w.dtype != DType::kF16 && w.dtype != DType::kBF16 && !block_type)
    fail(ErrorKind::kUnsupported, "matmul: weight type ", dtype_name(w.dtype),
         " is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
  KANTU_CHECK(n >= 0 && w.rows >= 0 && w.cols >= 0, "matmul: n=", n, " rows=", w.rows,
              " cols=", w.cols);
  if (block_type && w.cols % dtype_block_elems(w.dtype) != 0)
    fail(ErrorKind::kInvalidArgument, "matmul: a ", dtype_name(w.dtype), " weight needs a multiple of ",
         dtype_block_elems(w.dtype), " columns, got ", w.cols);
  if (n == 0 || w.rows == 0) return;
  KANTU_CHECK(y != nullptr && (w.cols == 0 || (x != nullptr && w.data != nullptr)),
              "matmul: null pointer");
  kernel_table().matmul(x, n, w, bias, y, pool);
}

void rms_norm(const float* x, const float* weight, int64_t n, int64_t dim, float eps, float* y) {
  KANTU_CHECK(n >= 0 && dim > 0, "rms_norm: n=", n, " dim=", dim);
  if (n == 0) return;
  KANTU_CHECK(x != nullptr && weight != nullptr && y != nullptr, "rms_norm: null pointer");
  kernel_table().rms_norm(x, weight, n, dim, eps, y);
}

void layer_norm(const float* x, const float* weight, const float* bias, int64_t n, int64_t dim,
                float eps, float* y) {
  KANTU_CHECK(n >= 0 && dim > 0, "layer_norm: n=", n, " dim=", dim);
  if (n == 0) return;
  KANTU_CHECK(x != nullptr && weight != nullptr && y != nullptr, "layer_norm: null pointer");
  kernel_table().layer_norm(x, weight, bias, n, dim, eps, y);
}

void gelu_tanh(float* x, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(x != nullptr);
  kernel_table().gelu_tanh(x, n);
}

void gelu_erf(float* x, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(x != nullptr);
  kernel_table().gelu_erf(x, n);
}

void quick_gelu(float* x, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(x != nullptr);
  kernel_table().quick_gelu(x, n);
}

void silu(float* x, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(x != nullptr);
  kernel_table().silu(x, n);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(gate != nullptr && up != nullptr && out != nullptr);
  kernel_table().silu_mul(gate, up, out, n);
}

void add(const float* a, const float* b, float* out, int64_t n) {
  if (n <= 0) return;
  KANTU_CHECK(a != nullptr && b != nullptr && out != nullptr);
  kernel_table().add(a, b, out, n);
}

void rope_rotate_half(float* x, const float* cos, const float* sin, int64_t head_dim) {
  KANTU_CHECK(head_dim > 0 && head_dim % 2 == 0, "rope: head_dim=", head_dim, " must be even");
  KANTU_CHECK(x != nullptr && cos != nullptr && sin != nullptr);
  kernel_table().rope_rotate_half(x, cos, sin, head_dim);
}

void attention(const float* q, const float* k, const float* v, float* out,
               const AttentionShape& s, ThreadPool* pool) {
  if (s.n_q <= 0 || s.n_kv <= 0) return attention(q, KvBlocks{}, out, s, pool);  // its errors
  KANTU_CHECK(k != nullptr && v != nullptr);
  const float* const k_blocks[1] = {k};
  const float* const v_blocks[1] = {v};
  attention(q, KvBlocks{k_blocks, v_blocks, s.n_kv}, out, s, pool);
}

void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  KANTU_CHECK(s.n_q >= 0 && s.n_kv >= 0 && s.head_dim > 0 && s.n_heads > 0 &&
                  s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0,
              "attention: n_q=", s.n_q, " n_kv=", s.n_kv, " heads=", s.n_heads, "/",
              s.n_kv_heads, " head_dim=", s.head_dim);
  const int64_t q_width = int64_t{s.n_heads} * s.head_dim;
  const int64_t kv_width = int64_t{s.n_kv_heads} * s.head_dim;
  KANTU_CHECK(s.q_stride >= q_width && s.out_stride >= q_width && s.kv_stride >= kv_width,
              "attention: row strides smaller than the rows");
  if (s.n_q == 0) return;
  KANTU_CHECK(s.n_kv > 0, "attention: queries but no keys");
  KANTU_CHECK(kv.block_rows > 0 && (kv.block_rows >= s.n_kv || kv.block_rows % 16 == 0),
              "attention: blocks of ", kv.block_rows, " rows (one block, or a multiple of 16)");
  KANTU_CHECK(q != nullptr && kv.k != nullptr && kv.v != nullptr && out != nullptr);
  kernel_table().attention(q, kv, out, s, pool);
}

}  // namespace kantu::kernels
