// AVX-512 attention: the flash loop of attention_driver.h on the 12x32 float tile of the
// AVX-512 GEMM (tile_f32_avx512.h) and 16-wide vectors for the softmax (exp512). Head sizes
// that are not multiples of 16 take the AVX2 version.
#pragma GCC diagnostic ignored "-Wuninitialized"  // see matmul_avx512.cpp
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/avx2.h"
#include "kernels/avx512.h"

// Last: in the emulated build it redefines intrinsic names.
#include "kernels/avx512_intrinsics.h"

KANTU_AVX512_TARGET("avx512f,avx512bw,avx512vl")

// After the target line: their code (internal linkage) is compiled for these instructions.
#include "kernels/attention_driver.h"
#include "kernels/simd_avx512.h"
#include "kernels/tile_f32_avx512.h"

namespace kantu::kernels::KANTU_AVX512_NS {
namespace {

struct Avx512Attention {
  static constexpr int kRows = kTileRowsF32;
  static constexpr int kPanel = kTileColsF32;
  static constexpr int kWidth = 16;
  using Vec = __m512;
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec set1(float f) { return _mm512_set1_ps(f); }
  static Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec exp(Vec v) { return exp512(v); }
  static float hmax(Vec v) { return _mm512_reduce_max_ps(v); }
  static float hsum(Vec v) { return _mm512_reduce_add_ps(v); }
  // 16 key rows (hd a multiple of 16) transposed 16 columns at a time into dst[hd][ld].
  static void pack_keys16(const float* k, int64_t stride, int n_valid, int64_t hd, float* dst,
                          int64_t ld) {
    for (int64_t d = 0; d < hd; d += 16) {
      __m512i r[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        r[j] = j < n_valid ? _mm512_castps_si512(_mm512_loadu_ps(k + j * stride + d))
                           : _mm512_setzero_si512();
      transpose16(r);
      store_columns(r, 16, first_lanes(16), dst + d * ld, ld);
    }
  }
  static void tile(int mr, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc,
                   float* c, int64_t ldc, int n_valid, bool accumulate) {
    run_tile_f32<false>(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, nullptr);
  }
};

}  // namespace

void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  if (s.head_dim % 16 != 0) return avx2::attention(q, kv, out, s, pool);
  Attention<Avx512Attention>::run(q, kv, out, s, pool);
}

}  // namespace kantu::kernels::KANTU_AVX512_NS
