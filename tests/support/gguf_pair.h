// Test-only converter: a Hugging Face folder (the tiny models of Qwen3-VL, Qwen2.5-VL,
// Qwen2-VL, LLaVA-1.5 and LLaVA-NeXT) -> the GGUF pair
// llama.cpp's convert_hf_to_gguf.py would write (text model file + mmproj file), through
// src/formats/gguf_writer and the shared name table. Used by the GGUF conformance and
// tokenizer tests; `kantu synth --format gguf` is the product path for full-size files.
#pragma once

#include <set>
#include <string>

#include "core/dtype.h"

namespace kantu::test {

struct GgufPair {
  std::string model, mmproj;
};

// Matrices are stored as `weights` (F32, F16, BF16, or a block type quantized with the
// kernels' quantizer); norms, biases, the position table and the patch kernel follow
// llama.cpp's converter rule (gguf_storage_dtype). Files go to out_dir.
// Tensors named (GGUF names) in `drop` are left out, for error tests.
GgufPair write_gguf_pair(const std::string& hf_dir, const std::string& out_dir, DType weights,
                         const std::set<std::string>& drop = {});

// The LLaVA-1.5 / NeXT pair (gguf_llava_pair.cpp; write_gguf_pair dispatches to it):
// F32, F16 or BF16 matrices. The CLIP MLP is named as llama.cpp's legacy converter names
// it (fc1 -> ffn_down, fc2 -> ffn_up), or with legacy_mlp_names false the other way round
// (fc1 -> ffn_up), which llama.cpp also reads.
GgufPair write_llava_gguf_pair(const std::string& hf_dir, const std::string& out_dir, DType weights,
                               const std::set<std::string>& drop = {}, bool legacy_mlp_names = true);

// A plain Llama GGUF text file: the tiny LLaVA-1.5 pair's text file (written to out_dir)
// with its "<image>" token renamed, so nothing in it says LLaVA (general.architecture
// "llama", no image token). Returns its path.
std::string write_plain_llama_gguf(const std::string& out_dir);

}  // namespace kantu::test
