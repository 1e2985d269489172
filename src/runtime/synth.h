// Synthesized checkpoints: a model folder of any registered family in the official
// Hugging Face layout (BF16 safetensors, sharded with model.safetensors.index.json when large,
// config.json, generation_config.json, preprocessor_config.json, tokenizer files)
// with random weights in the real shapes, for speed and memory work without
// downloading the real model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/json.h"
#include "models/checkpoint.h"

namespace kantu::runtime {

// The config.json of a known shape (models/checkpoint.h: "qwen3-vl-2b", "qwen3-vl-4b",
// "qwen3-vl-8b", "qwen2.5-vl-3b", "qwen2.5-vl-7b", "qwen2-vl-2b", "llava-1.5-7b",
// "llava-next-vicuna-7b", "llava-next-mistral-7b", and the test-size "tiny",
// "qwen2.5-vl-tiny", "qwen2-vl-tiny", "llava-1.5-tiny", "llava-next-tiny"). Unknown names are Error(kInvalidArgument)
// listing the known ones.
Json synth_config(const std::string& like);
std::vector<std::string> synth_shapes();

using SynthTensor = models::CheckpointTensor;

// The full tensor list of a config.json, by its family (validated: missing or
// non-positive sizes are Error(kInvalidArgument) naming the field).
std::vector<SynthTensor> synth_tensors(const Json& config);

// The values are generated in chunks of kSynthChunkElements; chunk `chunk` of tensor `t`
// depends only on (seed, t.name, chunk). Fills out[0, n) with that chunk's BF16 values
// (n = the chunk's length: kSynthChunkElements except for a tensor's last chunk). The
// GGUF writer uses this to store the very same weights as the safetensors folder.
constexpr int64_t kSynthChunkElements = 1 << 20;
void synth_fill_chunk_bf16(const SynthTensor& t, uint64_t seed, int64_t chunk, uint16_t* out,
                           int64_t n);

struct SynthOptions {
  uint64_t seed = 0;
  int threads = 0;                       // 0 = all cores
  int64_t max_shard_bytes = 5000000000;  // HF save_pretrained default ("5GB")
  DType gguf_weights = DType::kBF16;     // GGUF pair only: kBF16 (exact) or kF16
};

struct SynthReport {
  int64_t tensors = 0;
  int64_t parameters = 0;
  int64_t bytes = 0;
  int shards = 0;
  double seconds = 0;
};

// Writes the folder atomically: everything goes to a temporary sibling folder that is
// renamed to out_dir at the end, so a failure never leaves a partial model. out_dir
// must not exist. Tokenizer files (vocab.json, merges.txt, tokenizer.json, tokenizer.model,
// tokenizer_config.json, added_tokens.json, chat_template.json, ...) are copied from
// tokenizer_dir; it must hold a tokenizer and a chat template.
SynthReport synthesize_checkpoint(const Json& config, const std::string& tokenizer_dir,
                                  const std::string& out_dir, const SynthOptions& options);

// The same weights (same seed -> same values) as llama.cpp's GGUF pair: writes
// out_dir/model.gguf (general.architecture "qwen3vl": hyper-parameters and the full
// tokenizer from tokenizer_dir: tokens, token types, merges, special ids, chat template)
// and out_dir/mmproj.gguf (clip.projector_type "qwen3vl_merger"), with the converter's
// names, layouts and storage types (formats/gguf_names.h); Qwen2/2.5-VL configs give
// "qwen2vl" and "qwen2vl_merger" / "qwen2.5vl_merger" with the fused qkv split in three;
// LLaVA configs "llama" (SentencePiece vocabulary from tokenizer.model) and "mlp", as
// llama.cpp's LLaVA converters write them (runtime/gguf_llava_metadata.h). BF16 weights keep the
// safetensors values bit for bit (norms, biases, position and patch embeddings are F32,
// which is exact); F16 rounds them. Atomic like synthesize_checkpoint; out_dir must not
// exist. report.shards counts the files (2).
SynthReport synthesize_gguf_pair(const Json& config, const std::string& tokenizer_dir,
                                 const std::string& out_dir, const SynthOptions& options);

}  // namespace kantu::runtime
