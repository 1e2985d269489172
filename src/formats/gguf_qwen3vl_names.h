// The one table between Hugging Face Qwen3-VL tensor names and the names llama.cpp's
// converter (convert_hf_to_gguf.py, conversion/qwen3vl.py) writes into its GGUF pair:
// the text model file (general.architecture "qwen3vl") and the vision projector file
// ("mmproj", clip.projector_type "qwen3vl_merger"). Reader, writer and synth all go
// through these functions so the two directions can never disagree.
//
// Layout (what the bytes look like, beyond the name):
//  * GGUF dims are ggml's ne[], fastest-varying first: the HF shape reversed. The bytes of
//    a row-major HF tensor [rows, cols] are exactly those of GGUF ne {cols, rows}; no
//    transposition anywhere, except:
//  * model.visual.patch_embed.proj.weight, HF Conv3d [D, C, T=2, P, P], is stored as TWO
//    Conv2d kernels: v.patch_embd.weight = the T=0 slice [D, C, P, P] and
//    v.patch_embd.weight.1 = the T=1 slice (ggml ne {P, P, C, D} each). llama.cpp only
//    accepts temporal_patch_size 2.
//  * model.visual.deepstack_merger_list.<k>.* is numbered by the ABSOLUTE vision block
//    that feeds it: v.deepstack.<deepstack_visual_indexes[k]>.*; the mmproj file carries
//    clip.vision.is_deepstack_layers (one bool per block) to recover k.
//  * lm_head.weight is absent from the text file when the embeddings are tied
//    (llama.cpp then reuses token_embd.weight).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/dtype.h"

namespace kantu {

// The GGUF name of a HF tensor (modern prefixes "model.language_model." and
// "model.visual.", plus "lm_head.weight"); nullopt if it has none. For the Conv3d patch
// kernel this is "v.patch_embd.weight" (the T=0 half; the T=1 half is that name + ".1").
// deepstack_indexes = vision_config.deepstack_visual_indexes.
std::optional<std::string> qwen3vl_gguf_name(const std::string& hf_name,
                                             std::span<const int64_t> deepstack_indexes);

// The inverse; nullopt for an unknown name, and for "v.patch_embd.weight.1" (the reader
// joins v.patch_embd.weight and .weight.1 back into the Conv3d kernel itself).
std::optional<std::string> qwen3vl_hf_name(const std::string& gguf_name,
                                           std::span<const int64_t> deepstack_indexes);

enum class Qwen3vlGgufFile { kText, kMmproj };
// Which file of the pair holds a GGUF tensor: "v.*" and "mm.*" live in the mmproj file.
Qwen3vlGgufFile qwen3vl_gguf_file(const std::string& gguf_name);

// The storage type llama.cpp's converter picks for a tensor of a file whose weights are
// `weights` (F32, F16 or BF16): F32 for 1-D tensors (norms, biases), anything not ending
// in ".weight", *_norm.weight and v.position_embd.weight; v.patch_embd.weight(.1) is F16
// in an F16 file and F32 otherwise; every other matrix has the file's type. (A
// quantized file keeps these F32 tensors and the patch kernels as they are.)
DType qwen3vl_gguf_storage_dtype(const std::string& gguf_name, int rank, DType weights);

}  // namespace kantu
