// Scalar (de)quantization of the ggml block types: the definition of what the bytes mean.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

namespace kantu::kernels {
namespace {

using namespace quant;

void dequant_q8_0(const BlockQ8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int l = 0; l < kQ32; ++l) y[l] = d * b[i].qs[l];
  }
}

void dequant_q4_0(const BlockQ4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int l = 0; l < 16; ++l) {
      y[l] = d * ((b[i].qs[l] & 0x0F) - 8);
      y[l + 16] = d * ((b[i].qs[l] >> 4) - 8);
    }
  }
}

// Q4_K and Q5_K share everything but the fifth bit (qh == nullptr for Q4_K).
void dequant_k45(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qh,
                 const uint8_t* qs, float* y) {
  const float d = f16_to_f32(d16), dmin = f16_to_f32(dmin16);
  uint8_t sc[8], m[8];
  unpack_k_scales(scales, sc, m);
  for (int j = 0; j < 8; ++j) {
    const uint8_t* q = qs + 32 * (j / 2);
    const int shift = (j % 2) * 4;
    for (int l = 0; l < 32; ++l) {
      int v = (q[l] >> shift) & 0x0F;
      if (qh != nullptr) v |= ((qh[l] >> j) & 1) << 4;
      y[32 * j + l] = d * sc[j] * v - dmin * m[j];
    }
  }
}

void dequant_q6_k(const BlockQ6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += kQK) {
    const float d = f16_to_f32(b[i].d);
    for (int h = 0; h < 2; ++h) {
      for (int g = 0; g < 4; ++g) {
        for (int l = 0; l < 32; ++l) {
          const uint8_t lo_byte = b[i].ql[64 * h + l + 32 * (g & 1)];
          const int lo = g < 2 ? (lo_byte & 0x0F) : (lo_byte >> 4);
          const int hi = (b[i].qh[32 * h + l] >> (2 * g)) & 3;
          const int q = (lo | (hi << 4)) - 32;
          y[128 * h + 32 * g + l] = d * b[i].scales[8 * h + 2 * g + l / 16] * q;
        }
      }
    }
  }
}

void quantize_q8_0(const float* x, BlockQ8_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQ32) {
    float amax = 0.f;
    for (int l = 0; l < kQ32; ++l) amax = std::max(amax, std::fabs(x[l]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = f32_to_f16(d);
    for (int l = 0; l < kQ32; ++l) b[i].qs[l] = static_cast<int8_t>(std::lround(x[l] * id));
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* b, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += kQ32) {
    // The signed value of largest magnitude maps to -8 exactly: the side that has 8 steps.
    float amax = 0.f, extreme = 0.f;
    for (int l = 0; l < kQ32; ++l) {
      if (std::fabs(x[l]) > amax) {
        amax = std::fabs(x[l]);
        extreme = x[l];
      }
    }
    const float d = extreme / -8.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = f32_to_f16(d);
    auto q = [&](float v) {
      return static_cast<uint8_t>(std::clamp(static_cast<int>(std::floor(v * id + 8.5f)), 0, 15));
    };
    for (int l = 0; l < 16; ++l)
      b[i].qs[l] = static_cast<uint8_t>(q(x[l]) | (q(x[l + 16]) << 4));
  }
}


}  // namespace

void dequantize_row(DType dtype, const void* src, float* dst, int64_t cols) {
  const int64_t nb = cols / dtype_block_elems(dtype);
  switch (dtype) {
    case DType::kQ8_0:
      return dequant_q8_0(static_cast<const BlockQ8_0*>(src), dst, nb);
    case DType::kQ4_0:
      return dequant_q4_0(static_cast<const BlockQ4_0*>(src), dst, nb);
    case DType::kQ4_K:
      for (int64_t i = 0; i < nb; ++i) {
        const BlockQ4_K& b = static_cast<const BlockQ4_K*>(src)[i];
        dequant_k45(b.d, b.dmin, b.scales, nullptr, b.qs, dst + i * kQK);
      }
      return;
    case DType::kQ5_K:
      for (int64_t i = 0; i < nb; ++i) {
        const BlockQ5_K& b = static_cast<const BlockQ5_K*>(src)[i];
        dequant_k45(b.d, b.dmin, b.scales, b.qh, b.qs, dst + i * kQK);
      }
      return;
    case DType::kQ6_K:
      return dequant_q6_k(static_cast<const BlockQ6_K*>(src), dst, nb);
    default:
      fail(ErrorKind::kUnsupported, "dequantize: ", dtype_name(dtype), " is not a block type");
  }
}

bool can_quantize_to(DType dtype) { return dtype == DType::kQ8_0 || dtype == DType::kQ4_0; }

void quantize_row(DType dtype, const float* src, void* dst, int64_t cols) {
  KANTU_CHECK(can_quantize_to(dtype), "quantize: cannot produce ", dtype_name(dtype));
  KANTU_CHECK(cols % kQ32 == 0, "quantize: ", cols, " columns is not a multiple of 32");
  if (dtype == DType::kQ8_0) return quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), cols / kQ32);
  quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), cols / kQ32);
}

void quantize_matrix(const WeightMatrix& src, DType dtype, void* dst, ThreadPool* pool) {
  KANTU_CHECK(can_quantize_to(dtype), "quantize: cannot produce ", dtype_name(dtype));
  KANTU_CHECK(src.cols % dtype_block_elems(dtype) == 0, "quantize: ", src.cols,
              " columns is not a multiple of ", dtype_block_elems(dtype));
  KANTU_CHECK(src.dtype == DType::kF32 || src.dtype == DType::kF16 || src.dtype == DType::kBF16,
              "quantize: source type ", dtype_name(src.dtype), " is not F32, F16 or BF16");
  const size_t row_bytes = dtype_bytes(dtype, src.cols);
  auto run = [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(src.cols));
    for (int64_t r = r0; r < r1; ++r) {
      weight_row_to_f32(src, r, row.data());
      quantize_row(dtype, row.data(), static_cast<uint8_t*>(dst) + r * row_bytes, src.cols);
    }
  };
  if (pool == nullptr || pool->size() == 1 || src.rows < 64) return run(0, src.rows);
  pool->parallel_ranges(src.rows, run, 16);
}

}  // namespace kantu::kernels
