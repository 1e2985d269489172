// The vector e^x of the softmaxes (exp_ps of simd_avx2.h, exp512 of simd_avx512.h, the latter
// through SIMDe as in the emulated AVX-512 build) against std::exp over the whole float range:
// a wrong polynomial coefficient costs ~1e-5 relative, which attention outputs (averages of
// values) hide inside their tolerance. Compiled on its own (tests/CMakeLists.txt): SIMDe
// redefines the _mm512 names for this file.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/avx512.h"
#include "kernels/avx512_intrinsics.h"
#include "kernels/cpu_features.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_avx512.h"

namespace kantu::kernels {
namespace {

// Every 1/64 from -90 to 90 plus the edges: below -87.3 the result is 0, above 88.37 it
// saturates, NaN stays NaN.
std::vector<float> inputs() {
  std::vector<float> x;
  for (int i = -90 * 64; i <= 90 * 64; ++i) x.push_back(static_cast<float>(i) / 64.f);
  for (float v : {0.3465736f, -0.3465736f, 88.3f, -87.3f, 1e-8f, -1e-8f}) x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  while (x.size() % 16 != 0) x.push_back(0.f);
  return x;
}

void expect_exp(const std::vector<float>& x, const std::vector<float>& got, const char* name) {
  int bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(static_cast<double>(x[i]));
    bool ok;
    if (std::isnan(x[i])) {
      ok = std::isnan(got[i]);
    } else if (x[i] < -87.33654f) {
      ok = got[i] == 0.f;
    } else if (x[i] > 88.37626f) {  // clamped there, as both document: e^88.376 ~ 2.4e38
      ok = got[i] >= 2.4e38f && !std::isinf(got[i]);
    } else {
      ok = std::fabs(got[i] - want) <= 4 * FLT_EPSILON * want + 1e-38;  // ~2 ulp + denormals
    }
    if (!ok && ++bad <= 3) ADD_FAILURE() << name << "(" << x[i] << ") = " << got[i] << ", want " << want;
  }
}

TEST(VectorExp, Avx2WithinTwoUlp) {
  if (!isa_supported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2";
  const std::vector<float> x = inputs();
  std::vector<float> got(x.size());
  for (size_t i = 0; i < x.size(); i += 8) _mm256_storeu_ps(&got[i], avx2::exp_ps(_mm256_loadu_ps(&x[i])));
  expect_exp(x, got, "exp_ps");
}

TEST(VectorExp, Avx512WithinTwoUlp) {
  if (!isa_supported(Isa::kAvx2)) GTEST_SKIP() << "no AVX2 (the SIMDe build needs it)";
  const std::vector<float> x = inputs();
  std::vector<float> got(x.size());
  for (size_t i = 0; i < x.size(); i += 16)
    _mm512_storeu_ps(&got[i], KANTU_AVX512_NS::exp512(_mm512_loadu_ps(&x[i])));
  expect_exp(x, got, "exp512");
}

}  // namespace
}  // namespace kantu::kernels
