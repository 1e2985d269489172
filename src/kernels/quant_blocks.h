// The byte layouts of the block-quantized weight types, identical to ggml's (GGUF files map
// straight onto them), and the small decoding helpers shared by the scalar reference and the
// SIMD kernels. Plain C++: safe to include from any file.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/half.h"

namespace kantu::kernels::quant {

constexpr int kQ32 = 32;   // values per Q8_0 / Q4_0 block
constexpr int kQK = 256;   // values per K-quant super-block

// 32 values: value[i] = d * qs[i].
struct BlockQ8_0 {
  uint16_t d;  // f16
  int8_t qs[32];
};
// 32 values: value[i] = d * (q[i] - 8), q[i] in 0..15; byte j holds q[j] in its low nibble
// and q[j + 16] in its high nibble.
struct BlockQ4_0 {
  uint16_t d;  // f16
  uint8_t qs[16];
};
// 256 values in 8 sub-blocks of 32: value = d * sc[j] * q - dmin * m[j], q in 0..15, with
// 6-bit sc/m packed in `scales` (see unpack_k_scales). Bytes qs[32p .. 32p+32) hold sub-block
// 2p in their low nibbles and 2p+1 in their high nibbles.
struct BlockQ4_K {
  uint16_t d, dmin;  // f16
  uint8_t scales[12];
  uint8_t qs[128];
};
// As Q4_K plus a fifth bit: bit j of qh[l] is the high bit of value l of sub-block j.
struct BlockQ5_K {
  uint16_t d, dmin;  // f16
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
// 256 values in 16 sub-blocks of 16: value = d * scales[s] * (q - 32), q in 0..63. In half h
// (128 values), value 32g + l (g < 4, l < 32) takes its low 4 bits from ql[64h + l + 32(g&1)]
// (low nibble for g < 2, high for g >= 2) and its top 2 bits from bits 2g..2g+1 of
// qh[32h + l]; its scale is scales[8h + 2g + l/16].
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;  // f16
};

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210);

// The eight 6-bit scales (sc[0..7]) and mins (m[0..7]) of a Q4_K/Q5_K super-block. Sub-blocks
// 0-3 keep theirs in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 keep
// their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits in the spare top bits of
// bytes 0-3 (scales) and 4-7 (mins).
inline void unpack_k_scales(const uint8_t* packed, uint8_t sc[8], uint8_t m[8]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = packed[j] & 63;
    m[j] = packed[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((packed[j + 8] & 0x0F) | ((packed[j] >> 6) << 4));
    m[j + 4] = static_cast<uint8_t>((packed[j + 8] >> 4) | ((packed[j + 4] >> 6) << 4));
  }
}

// unpack_k_scales as two little-endian words (byte j of *sc is sc[j]), computed with
// whole-word masks: SIMD code can move them straight into a register, where eight byte
// stores reloaded as one 8-byte load stall on store forwarding.
inline void unpack_k_scales_words(const uint8_t* packed, uint64_t* sc, uint64_t* m) {
  uint32_t u[3];
  std::memcpy(u, packed, sizeof u);
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kTop2 = 0x03030303;
  const uint32_t sc_lo = u[0] & kLow6, m_lo = u[1] & kLow6;
  const uint32_t sc_hi = (u[2] & kLow4) | (((u[0] >> 6) & kTop2) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kTop2) << 4);
  *sc = sc_lo | (static_cast<uint64_t>(sc_hi) << 32);
  *m = m_lo | (static_cast<uint64_t>(m_hi) << 32);
}

}  // namespace kantu::kernels::quant
