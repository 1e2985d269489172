// Metadata of the synthesized GGUF pair, as llama.cpp's converter writes it for
// Qwen3-VL: text hyper-parameters, tokenizer, and the clip keys of the mmproj file.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/json.h"
#include "formats/gguf_writer.h"

namespace kantu::runtime {

// llama.cpp's general.file_type (LlamaFileType) for a file whose matrices are `weights`.
uint32_t gguf_file_type(DType weights);

// general.* and qwen3vl.* keys from config.json's text_config (every key
// llama_model_qwen3vl needs: block count, sizes, heads, head dim, RMS eps, rope base,
// M-RoPE sections padded to 4, deep-stack layer count).
void add_qwen3vl_text_metadata(GgufWriter& w, const Json& config, DType weights);

// tokenizer.ggml.* and tokenizer.chat_template from a Hugging Face tokenizer folder
// (vocab.json + merges.txt or tokenizer.json; tokenizer_config.json; chat_template.json,
// chat_template.jinja or the template inside tokenizer_config.json). The token list has
// text_config.vocab_size entries, ids without a token being "[PAD<id>]" (UNUSED), like
// the converter. Missing or malformed files are Error(kNotFound / kCorrupt).
void add_qwen3vl_tokenizer_metadata(GgufWriter& w, const Json& config,
                                    const std::string& tokenizer_dir);

// general.* and clip.* keys of the mmproj file from config.json's vision_config.
void add_qwen3vl_mmproj_metadata(GgufWriter& w, const Json& config, DType weights);

}  // namespace kantu::runtime
