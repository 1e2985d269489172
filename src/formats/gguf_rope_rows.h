// llama.cpp's row order of a Llama attention's q and k projections. transformers rotates
// the two halves of each head (rotate_half); llama.cpp's "llama" architecture rotates
// adjacent pairs, so convert_hf_to_gguf.py permutes each head's rows to match: HF row
// i * (d/2) + j of a head of d rows is GGUF row 2 * j + i. Whole rows move, so a
// block-quantized matrix is permuted like any other (its blocks never cross rows).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace kantu {

// The GGUF row holding HF row `hf_row` (heads of `head_dim` rows), and the inverse.
int64_t llama_gguf_row(int64_t hf_row, int64_t head_dim);
int64_t llama_hf_row(int64_t gguf_row, int64_t head_dim);

// The bytes of `t` (a GGUF q/k weight or bias, rows of head_dim-row heads) in HF row order.
// Error(kCorrupt) when its rows are not whole heads.
std::vector<uint8_t> llama_rows_to_hf(const TensorView& t, int64_t head_dim, const std::string& file);

}  // namespace kantu
