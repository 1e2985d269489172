// The same loops as resize_kernels.cpp, compiled with -mavx2 (see CMakeLists.txt).
#include "image/resize_kernels.h"
#include "image/resize_kernels_impl.h"

namespace kantu {

ResampleKernels resample_kernels_avx2() {
  return {&resample_impl::horizontal, &resample_impl::vertical};
}

}  // namespace kantu
