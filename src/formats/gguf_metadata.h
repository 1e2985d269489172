// GGUF pair metadata as llama.cpp's converter writes it for the Qwen-VL families (the
// write side of gguf_config.h): text hyper-parameters, tokenizer, and the clip keys of the
// mmproj file, from config.json (either layout), preprocessor_config.json and the
// tokenizer files.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/json.h"
#include "formats/gguf_writer.h"
#include "formats/model_family.h"

namespace kantu {

// llama.cpp's general.file_type (LlamaFileType) for a file whose matrices are `weights`.
uint32_t gguf_file_type(DType weights);

// general.* and <arch>.* keys ("qwen3vl", or "qwen2vl" for both Qwen2 families) from
// config.json's text section (every key llama.cpp's model needs: block count, sizes,
// heads, head dim (Qwen3-VL), RMS eps, rope base, M-RoPE sections padded to 4, deep-stack
// layer count (Qwen3-VL)).
void add_text_metadata(GgufWriter& w, ModelFamily family, const Json& config, DType weights);

// tokenizer.ggml.* and tokenizer.chat_template from a Hugging Face tokenizer folder
// (vocab.json + merges.txt or tokenizer.json; tokenizer_config.json; chat_template.json,
// chat_template.jinja or the template inside tokenizer_config.json). The token list has
// text_config.vocab_size entries, ids without a token being "[PAD<id>]" (UNUSED), like
// the converter. Missing or malformed files are Error(kNotFound / kCorrupt).
void add_tokenizer_metadata(GgufWriter& w, const Json& config, const std::string& tokenizer_dir);

// general.* and clip.* keys of the mmproj file from config.json's vision_config and the
// image mean/std of preprocessor_config.json: projector "qwen3vl_merger",
// "qwen2vl_merger" or "qwen2.5vl_merger" (with use_silu and n_wa_pattern).
void add_mmproj_metadata(GgufWriter& w, ModelFamily family, const Json& config,
                         const Json& preprocessor, DType weights);

// clip.vision.image_mean / image_std from preprocessor_config.json (3 numbers each, else
// Error(kInvalidArgument)): every family's mmproj carries them.
void add_image_normalization(GgufWriter& w, const Json& preprocessor);

}  // namespace kantu
