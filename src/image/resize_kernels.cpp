#include "image/resize_kernels.h"

#include "image/resize_kernels_impl.h"

namespace kantu {

ResampleKernels resample_kernels_scalar() {
  return {&resample_impl::horizontal, &resample_impl::vertical};
}

const ResampleKernels& resample_kernels() {
  static const ResampleKernels kernels = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? resample_kernels_avx2() : resample_kernels_scalar();
  }();
  return kernels;
}

}  // namespace kantu
