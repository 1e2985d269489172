// AVX2 attention: the flash loop of attention_driver.h on the 6x16 float tile of the GEMM
// (gemm_tile_avx2.h) and 8-wide vectors for the softmax.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/attention_driver.h"
#include "kernels/avx2.h"
#include "kernels/gemm_tile_avx2.h"
#include "kernels/ref.h"

namespace kantu::kernels::avx2 {
namespace {

struct Avx2Attention {
  static constexpr int kRows = kTileRows;
  static constexpr int kPanel = kPanelCols;
  static constexpr int kWidth = 8;
  using Vec = __m256;
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec set1(float f) { return _mm256_set1_ps(f); }
  static Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec exp(Vec v) { return exp_ps(v); }
  static float hmax(Vec v) { return avx2::hmax(v); }
  static float hsum(Vec v) { return avx2::hsum(v); }
  // A panel is exactly 16 keys wide here (ld == kPanelCols).
  static void pack_keys16(const float* k, int64_t stride, int n_valid, int64_t hd, float* dst,
                          int64_t /*ld*/) {
    pack_panel<F32Weights>(k, stride, n_valid, hd, dst);
  }
  static void tile(int mr, const float* a, int64_t lda, const float* b, int64_t ldb, int64_t kc,
                   float* c, int64_t ldc, int n_valid, bool accumulate) {
    run_tile<2>(mr, a, lda, b, ldb, kc, c, ldc, n_valid, accumulate, nullptr);
  }
};

}  // namespace

void attention(const float* q, const KvBlocks& kv, float* out, const AttentionShape& s,
               ThreadPool* pool) {
  if (s.head_dim % 8 != 0) return ref::attention(q, kv, out, s, pool);  // no such model yet
  Attention<Avx2Attention>::run(q, kv, out, s, pool);
}

}  // namespace kantu::kernels::avx2
