// Random block-quantized weights of any GGUF block type, for kernel tests and benchmarks
// (header-only: the benchmarks do not link the GoogleTest-based test support library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "core/half.h"
#include "kernels/quant_blocks.h"

namespace kantu::test {

// Random bytes everywhere, then sane f16 scales (random bytes there would give infinities
// and NaNs, which no real file has). rows * cols must be whole blocks.
inline std::vector<uint8_t> random_blocks(DType dtype, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> data(dtype_bytes(dtype, rows * cols));
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  auto set_f16 = [&](uint8_t* p) {
    const uint16_t h = f32_to_f16(scale(rng));
    std::memcpy(p, &h, 2);
  };
  const size_t bb = dtype_block_bytes(dtype);
  for (size_t off = 0; off < data.size(); off += bb) {
    uint8_t* blk = data.data() + off;
    switch (dtype) {
      case DType::kQ8_0:
      case DType::kQ4_0:
        set_f16(blk);
        break;
      case DType::kQ4_K:
      case DType::kQ5_K:
        set_f16(blk);
        set_f16(blk + 2);
        break;
      default:
        set_f16(blk + offsetof(kernels::quant::BlockQ6_K, d));
        break;
    }
  }
  return data;
}

}  // namespace kantu::test
