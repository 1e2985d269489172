// The one table between Hugging Face tensor names of the Qwen-VL families and the names
// llama.cpp's converter (convert_hf_to_gguf.py, conversion/qwen3vl.py, qwenvl.py) writes
// into its GGUF pair: the text model file (general.architecture "qwen3vl" or "qwen2vl")
// and the vision projector file ("mmproj", clip.projector_type "qwen3vl_merger",
// "qwen2vl_merger" or "qwen2.5vl_merger"). Reader, writer and synth all go through these
// functions so the two directions can never disagree. HF names are the modern ones
// ("model.language_model.", "model.visual."); gguf_name_of also takes the official
// Qwen2/2.5-VL spellings ("model.layers.", "model.embed_tokens.", "model.norm.", "visual.").
//
// LLaVA-1.5 / NeXT: the llava-hf names ("language_model.model.", "vision_tower.vision_model.",
// "multi_modal_projector.", "image_newline") and llama.cpp's: the text file of
// convert_hf_to_gguf.py (arch "llama", "blk.N.*") and the mmproj of its legacy LLaVA
// converter (projector "mlp": "v.class_embd", "v.pre_ln", "v.blk.N.*", "mm.0" / "mm.2",
// "model.image_newline"). Its CLIP MLP names are swapped (fc1 = ffn_down), as that converter
// writes them; its Llama q/k rows are permuted for llama.cpp's RoPE (gguf_rope_rows.h).
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
//  * Qwen2/2.5-VL's fused vision attn.qkv [3D, D] (and its bias) is stored as three
//    tensors v.blk.N.attn_q / attn_k / attn_v (rows 0..D-1, D..2D-1, 2D..3D-1); the reader
//    exposes them as model.visual.blocks.N.attn.{q,k,v}.* (see gguf_qkv_split_names).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/dtype.h"
#include "formats/model_family.h"

namespace kantu {

// The GGUF name of a HF tensor of `family` (plus "lm_head.weight"); nullopt if it has
// none. For the Conv3d patch kernel this is "v.patch_embd.weight" (the T=0 half; the T=1
// half is that name + ".1"). deepstack_indexes = vision_config.deepstack_visual_indexes.
std::optional<std::string> gguf_name_of(const std::string& hf_name, ModelFamily family,
                                        std::span<const int64_t> deepstack_indexes = {});

// The inverse; nullopt for an unknown name, and for "v.patch_embd.weight.1" (the reader
// joins v.patch_embd.weight and .weight.1 back into the Conv3d kernel itself).
std::optional<std::string> hf_name_of(const std::string& gguf_name, ModelFamily family,
                                      std::span<const int64_t> deepstack_indexes = {});

// Qwen2/2.5-VL: the q, k, v GGUF names a fused "...blocks.N.attn.qkv.{weight,bias}" is
// split into; nullopt for any other tensor or family.
std::optional<std::array<std::string, 3>> gguf_qkv_split_names(const std::string& hf_name,
                                                               ModelFamily family);

// LLaVA's CLIP MLP tensor under its other name: "v.blk.N.ffn_down.*" <-> "v.blk.N.ffn_up.*"
// (the legacy converter names fc1 ffn_down, as the table does; other converters name it
// ffn_up, which the reader tells apart by shape); any other name as it is.
std::string swap_clip_mlp_name(const std::string& gguf_name);

enum class GgufPairFile { kText, kMmproj };
// Which file of the pair holds a GGUF tensor: "v.*" and "mm.*" live in the mmproj file.
GgufPairFile gguf_file_of(const std::string& gguf_name);

// The storage type llama.cpp's converter picks for a tensor of a file whose weights are
// `weights` (F32, F16 or BF16): F32 for 1-D tensors (norms, biases), anything not ending
// in ".weight", *_norm.weight and v.position_embd.weight; v.patch_embd.weight(.1) is F16
// in an F16 file and F32 otherwise; every other matrix has the file's type. (A
// quantized file keeps these F32 tensors and the patch kernels as they are.)
DType gguf_storage_dtype(const std::string& gguf_name, int rank, DType weights);

}  // namespace kantu
