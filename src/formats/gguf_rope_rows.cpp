#include "formats/gguf_rope_rows.h"

#include <cstring>

#include "core/error.h"

namespace kantu {

int64_t llama_gguf_row(int64_t hf_row, int64_t head_dim) {
  const int64_t half = head_dim / 2, head = hf_row / head_dim, r = hf_row % head_dim;
  return head * head_dim + 2 * (r % half) + r / half;
}

int64_t llama_hf_row(int64_t gguf_row, int64_t head_dim) {
  const int64_t half = head_dim / 2, head = gguf_row / head_dim, r = gguf_row % head_dim;
  return head * head_dim + (r % 2) * half + r / 2;
}

std::vector<uint8_t> llama_rows_to_hf(const TensorView& t, int64_t head_dim, const std::string& file) {
  const int64_t rows = t.shape.empty() ? 0 : t.shape[0];
  if (head_dim <= 0 || head_dim % 2 != 0 || rows % head_dim != 0) {
    fail(ErrorKind::kCorrupt, file, ": ", t.name, " has ", rows, " rows, not whole heads of ", head_dim);
  }
  const size_t row_bytes = t.nbytes / static_cast<size_t>(rows);
  std::vector<uint8_t> out(t.nbytes);
  const auto* in = static_cast<const uint8_t*>(t.data);
  for (int64_t g = 0; g < rows; ++g) {
    std::memcpy(out.data() + static_cast<size_t>(llama_hf_row(g, head_dim)) * row_bytes,
                in + static_cast<size_t>(g) * row_bytes, row_bytes);
  }
  return out;
}

}  // namespace kantu
