// Which files of a repository kantu fetches.
//  - A Hugging Face model folder: the configs (model, generation, preprocessor, processor),
//    the tokenizer and chat-template files, and the safetensors weights (the shards the
//    index names, else model.safetensors, else every top-level *.safetensors).
//  - A GGUF repository (a :TAG was given, or the repo has no safetensors): llama.cpp's `-hf`
//    rule: the first model file whose name carries the tag (Q4_K_M, then Q8_0 without one,
//    then the first model file), every part of it if split, and the mmproj file nearest to
//    it (same folder or above; closest quantization bits).
//  - --include GLOB...: exactly the files matching a glob (fnmatch, "*" crosses "/", as
//    huggingface_hub's allow_patterns).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kantu::hub {

struct Selection {
  std::vector<std::string> files;  // repo paths, sorted
  bool gguf = false;
  std::string model_file;   // GGUF: the text model file (first part when split)
  std::string mmproj_file;  // GGUF: its vision projector, or empty
};

// Reads a safetensors index (a repo path) and returns the shard names it maps to.
using IndexReader = std::function<std::vector<std::string>(const std::string& index_path)>;

// Errors: kInvalidArgument (:TAG together with --include), kNotFound (no file for the tag, a
// glob that matches nothing), kUnsupported (nothing kantu can run, a split GGUF model).
Selection select_files(const std::string& repo_id, const std::vector<std::string>& repo_files,
                       const std::string& tag, const std::vector<std::string>& include,
                       const IndexReader& read_index);

// The shard names of a model.safetensors.index.json (its weight_map values, unique).
std::vector<std::string> parse_safetensors_index(const std::string& json_text, const std::string& what);

// The quantization tag in a GGUF file name ("Q4_K_M" for x-Q4_K_M.gguf), upper-case, or "".
std::string gguf_file_tag(const std::string& path);

bool glob_match(const std::string& pattern, const std::string& path);

}  // namespace kantu::hub
