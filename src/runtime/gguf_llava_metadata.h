// The metadata llama.cpp's converters write for a LLaVA checkpoint (the write side of
// formats/gguf_llava_config.h): the Llama text file as convert_hf_to_gguf.py writes it
// (arch "llama", the SentencePiece vocabulary padded to vocab_size), and the mmproj as
// its legacy convert_image_encoder_to_gguf.py does (projector "mlp", the CLIP blocks up to
// the deepest feature layer, no post_layernorm, feature_layer, NeXT's pinpoints). Used by
// `kantu synth --format gguf` and the tests' converter.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/json.h"
#include "formats/gguf_writer.h"
#include "formats/llava_config.h"

namespace kantu::runtime {

// general.* and llama.* keys of the text file.
void add_llava_text_metadata(GgufWriter& w, const llava::Config& c, DType weights);

// tokenizer.ggml.* ("llama": tokens, scores, types from tokenizer.model; the added tokens
// of tokenizer_config.json, CONTROL when special; "[PAD<id>]" up to vocab_size) and
// tokenizer.chat_template from a llava-hf tokenizer folder. Missing files: Error(kNotFound).
void add_llama_tokenizer_metadata(GgufWriter& w, int64_t vocab_size, const std::string& tokenizer_dir);

// general.* and clip.* keys of the mmproj file; `config` is config.json (its
// vision_config.projection_dim), `preprocessor` preprocessor_config.json (mean, std).
void add_llava_mmproj_metadata(GgufWriter& w, const Json& config, const llava::Config& c,
                               const Json& preprocessor, DType weights);

// Whether the converter keeps HF tensor `hf_name` (it drops post_layernorm and the CLIP
// blocks past the deepest feature layer).
bool llava_gguf_keeps(const std::string& hf_name, const llava::Config& c);

}  // namespace kantu::runtime
